// OpenLineage names of provenant's resource URIs and request routes (pure functions: no I/O to mediate).
import { describe, expect, it } from 'vitest';
import { uuidFrom } from '../../src/openlineage/events.js';
import { datasetName, routeOf } from '../../src/openlineage/naming.js';

describe('OpenLineage naming', () => {
  it('splits URIs into namespace = scheme://authority and name = path', () => {
    expect(datasetName('file://n1/srv/data/patients/42.json')).toEqual({ namespace: 'file://n1', name: '/srv/data/patients/42.json' });
    expect(datasetName('https://api.example.com:443')).toEqual({ namespace: 'https://api.example.com:443', name: '/' });
    expect(datasetName('http://[::1]:8080')).toEqual({ namespace: 'http://[::1]:8080', name: '/' });
    expect(datasetName('service://analytics')).toEqual({ namespace: 'service://analytics', name: '/' });
    expect(datasetName('tcp://10.0.0.7')).toEqual({ namespace: 'tcp://10.0.0.7', name: '/' });
    expect(datasetName('unix:///run/app.sock')).toEqual({ namespace: 'unix', name: '/run/app.sock' });
    expect(datasetName('process://n1/convert')).toEqual({ namespace: 'process://n1', name: '/convert' });
  });

  it('names a route by its shape, not its items', () => {
    expect(routeOf('/patients/42')).toBe('/patients/{id}');
    expect(routeOf('/patients/6f1c2a7e-1d2b-4c3d-9e8f-0a1b2c3d4e5f/notes')).toBe('/patients/{id}/notes');
    expect(routeOf('/users/alice%40example.com')).toBe('/users/{id}');
    expect(routeOf('/files/a1b2c3d4e5f6a7b8c9d0')).toBe('/files/{id}');
    expect(routeOf('/reports/monthly-summary')).toBe('/reports/monthly-summary');
    expect(routeOf('/')).toBe('/');
  });

  it('derives stable RFC 9562 version 8 run ids', () => {
    const id = uuidFrom('reports\u0000n1\u0000abc');
    expect(id).toBe(uuidFrom('reports\u0000n1\u0000abc'));
    expect(id).not.toBe(uuidFrom('reports\u0000n1\u0000abd'));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
