#include "dlfs/runtime/generator.hpp"

#include <cmath>

#include "dlfs/runtime/counter_rng.hpp"

namespace dlfs {

double Generator::uniform() {
  return rng::uniform_double(seed_, reserve(1));
}

double Generator::normal() {
  // Box-Muller from two uniforms; 1 - u keeps the logarithm's argument in (0, 1].
  const std::uint64_t c = reserve(2);
  const double u1 = 1.0 - rng::uniform_double(seed_, c);
  const double u2 = rng::uniform_double(seed_, c + 1);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

std::uint64_t Generator::below(std::uint64_t n) {
  // Rejection sampling avoids the modulo bias of bits % n.
  const std::uint64_t limit = n == 0 ? 0 : (~std::uint64_t{0} / n) * n;
  for (;;) {
    const std::uint64_t x = rng::bits(seed_, reserve(1));
    if (x < limit) return x % n;
  }
}

}  // namespace dlfs
