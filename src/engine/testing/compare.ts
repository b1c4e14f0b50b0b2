// Comparing tensors in tests: the largest absolute difference relative to the reference's largest value
// (a tensor-wide scale, so entries near zero do not dominate).
export function maxRelErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    err = Math.max(err, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return err / Math.max(scale, 1e-12);
}
