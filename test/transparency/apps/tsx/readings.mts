export enum Unit {
  Percent = '%',
  MmolPerMol = 'mmol/mol',
}

export interface Reading {
  patient: string;
  value: number;
  unit: Unit;
}

export function summarise(readings: readonly Reading[]): string {
  return readings.map((reading) => `${reading.patient}: ${reading.value.toFixed(1)} ${reading.unit}`).join('\n');
}
