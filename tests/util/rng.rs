//! [`Rng`]: a deterministic generator (LCG) for test fixtures, so that a
//! failure reproduces with the same messages.

pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}
