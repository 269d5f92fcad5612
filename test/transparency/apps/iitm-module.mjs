export function greet() {
  return 'plain';
}
