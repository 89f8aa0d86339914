#include "dlfs/data/augment.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "dlfs/runtime/counter_rng.hpp"
#include "dlfs/runtime/error.hpp"

namespace dlfs::data {

namespace {

// Names augmentation's stream among a seed's streams, so its draws are not the numbers that
// seed the epoch's shuffle (rng::bits(seed, epoch), data/batch_iterator.cpp). ASCII "augment".
constexpr std::uint64_t kAugmentStream = 0x006175676d656e74ull;
// Random erasing's own stream (ASCII "erase"), so its draws leave the crop's and flip's alone.
constexpr std::uint64_t kEraseStream = 0x0000006572617365ull;

// torchvision RandomErasing's defaults: the erased area's share of the image, its aspect ratio
// (height / width, drawn log-uniformly), and the tries before an image is left whole.
constexpr double kEraseMinArea = 0.02, kEraseMaxArea = 0.33;
constexpr double kEraseMinAspect = 0.3, kEraseMaxAspect = 1 / 0.3;
constexpr int kEraseTries = 10;
constexpr double kDefaultEraseProbability = 0.5;

[[noreturn]] void refuse(const std::string& spec) {
  throw InputError("option --augment: '" + spec +
                   "' is not off, on (crop:4,flip) or a comma list of crop:P (P from 1 to " +
                   std::to_string(kMaxCropPadding) + "), flip and erase[:p] (p from 0.000001 " +
                   "to 1), each at most once, such as crop:2,flip,erase:0.25");
}

// Digits only: no sign, space, point or exponent (an empty text passes).
bool all_digits(const std::string& text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The P of "crop:P", or 0 when the text is not one.
int crop_padding_of(const std::string& item) {
  const std::string prefix = "crop:";
  if (item.compare(0, prefix.size(), prefix) != 0) return 0;
  const std::string digits = item.substr(prefix.size());
  // Digits only (no sign, space or exponent), and short enough that the value cannot overflow.
  if (digits.empty() || digits.size() > 4 || !all_digits(digits)) return 0;
  const int p = std::atoi(digits.c_str());
  return p <= kMaxCropPadding ? p : 0;
}

// The p of "erase" (kDefaultEraseProbability) or "erase:p", or 0 when the text is not one. p is
// written as digits with at most one point and at most six digits after it, so that describe's
// six-digit text reads back as the same number.
double erase_probability_of(const std::string& item) {
  if (item == "erase") return kDefaultEraseProbability;
  const std::string prefix = "erase:";
  if (item.compare(0, prefix.size(), prefix) != 0) return 0;
  const std::string number = item.substr(prefix.size());
  const std::size_t point = number.find('.');
  const std::string whole = number.substr(0, point);
  const std::string fraction = point == std::string::npos ? "" : number.substr(point + 1);
  if (whole.size() > 1 || !all_digits(whole) || !all_digits(fraction) || fraction.size() > 6 ||
      (whole.empty() && fraction.empty()) || (point != std::string::npos && fraction.empty()))
    return 0;
  const double p = std::strtod(number.c_str(), nullptr);
  return p > 0 && p <= 1 ? p : 0;
}

// floor(r * n / 2^bits) for r < 2^bits: a uniform integer in [0, n) from `bits` random bits
// (Lemire's multiply-shift; the bias, under n / 2^bits, is below 1e-6 for every n allowed).
int scale_to(std::uint64_t r, int bits, int n) {
  return static_cast<int>((r * static_cast<std::uint64_t>(n)) >> bits);
}

}  // namespace

AugmentOptions parse_augment(const std::string& spec) {
  if (spec == "off") return {};
  if (spec == "on") return {4, true, 0};
  AugmentOptions out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = spec.find(',', start);
    const std::string item = spec.substr(start, comma == std::string::npos ? comma : comma - start);
    if (item == "flip" && !out.horizontal_flip) {
      out.horizontal_flip = true;
    } else if (const int p = crop_padding_of(item); p > 0 && out.crop_padding == 0) {
      out.crop_padding = p;
    } else if (const double e = erase_probability_of(item); e > 0 && out.erase_probability == 0) {
      out.erase_probability = e;
    } else {
      refuse(spec);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string describe(const AugmentOptions& options) {
  std::string out;
  if (options.crop_padding > 0) out = "crop:" + std::to_string(options.crop_padding);
  if (options.horizontal_flip) out += out.empty() ? "flip" : ",flip";
  if (options.erase_probability > 0) {
    std::ostringstream p;
    p.precision(6);  // parse_augment's six digits after the point: 0.000001 to 1
    p << std::fixed << options.erase_probability;
    std::string text = p.str();
    text.erase(text.find_last_not_of('0') + 1);  // "0.500000" -> "0.5", "1.000000" -> "1."
    if (text.back() == '.') text.pop_back();
    out += (out.empty() ? "erase:" : ",erase:") + text;
  }
  return out.empty() ? "off" : out;
}

ImageTransform augment_transform(const AugmentOptions& options, std::uint64_t epoch,
                                 std::uint64_t position) {
  // One 64-bit word per sample: dy from its low 32 bits, dx from the next 31, the flip from the
  // top bit, so the three are independent.
  const std::uint64_t epoch_stream = rng::bits(rng::bits(options.seed, kAugmentStream), epoch);
  const std::uint64_t word = rng::bits(epoch_stream, position);
  ImageTransform t;
  if (options.crop_padding > 0) {
    const int offsets = 2 * options.crop_padding + 1;
    t.dy = scale_to(word & 0xFFFFFFFFull, 32, offsets);
    t.dx = scale_to((word >> 32) & 0x7FFFFFFFull, 31, offsets);
  }
  t.flip = options.horizontal_flip && (word >> 63) != 0;
  return t;
}

void augment_image(float* image, std::int64_t channels, std::int64_t height, std::int64_t width,
                   int crop_padding, const ImageTransform& transform) {
  // Output pixel (y, x) before the flip reads input pixel (y + shift_y, x + shift_x).
  const std::int64_t shift_y = transform.dy - crop_padding;
  const std::int64_t shift_x = transform.dx - crop_padding;
  if (shift_y == 0 && shift_x == 0 && !transform.flip) return;
  const std::int64_t kept = std::max<std::int64_t>(0, width - std::abs(shift_x));
  const std::size_t kept_bytes = static_cast<std::size_t>(kept) * sizeof(float);
  for (std::int64_t c = 0; c < channels; ++c) {
    float* plane = image + c * height * width;
    // In place, without scratch: output row y reads only input row y + shift_y, so visiting rows
    // top-down when the window moves down the image (shift_y >= 0) and bottom-up otherwise reads
    // every source row before it is overwritten. Within a row memmove handles the overlap.
    for (std::int64_t k = 0; k < height; ++k) {
      const std::int64_t y = shift_y >= 0 ? k : height - 1 - k;
      const std::int64_t source_y = y + shift_y;
      float* out = plane + y * width;
      if (source_y < 0 || source_y >= height || kept == 0) {
        std::fill(out, out + width, 0.0f);
        continue;
      }
      const float* in = plane + source_y * width;
      if (shift_x >= 0) {
        std::memmove(out, in + shift_x, kept_bytes);
        std::fill(out + kept, out + width, 0.0f);
      } else {
        std::memmove(out - shift_x, in, kept_bytes);
        std::fill(out, out - shift_x, 0.0f);
      }
      if (transform.flip) std::reverse(out, out + width);
    }
  }
}

EraseBox erase_box(const AugmentOptions& options, std::uint64_t epoch, std::uint64_t position,
                   std::int64_t height, std::int64_t width) {
  if (options.erase_probability <= 0) return {};
  const std::uint64_t sample_stream =
      rng::bits(rng::bits(rng::bits(options.seed, kEraseStream), epoch), position);
  // Number 0 decides whether to erase; try t draws numbers 1 + 4t to 4 + 4t.
  if (rng::uniform_double(sample_stream, 0) >= options.erase_probability) return {};
  const double area = static_cast<double>(height * width);
  const double log_min_aspect = std::log(kEraseMinAspect);
  const double log_max_aspect = std::log(kEraseMaxAspect);
  for (int t = 0; t < kEraseTries; ++t) {
    auto draw = [&](int k) {
      return rng::uniform_double(sample_stream, static_cast<std::uint64_t>(1 + 4 * t + k));
    };
    const double erase_area = area * (kEraseMinArea + (kEraseMaxArea - kEraseMinArea) * draw(0));
    const double aspect = std::exp(log_min_aspect + (log_max_aspect - log_min_aspect) * draw(1));
    const auto box_height = static_cast<std::int64_t>(std::lround(std::sqrt(erase_area * aspect)));
    const auto box_width = static_cast<std::int64_t>(std::lround(std::sqrt(erase_area / aspect)));
    if (box_height < 1 || box_width < 1 || box_height >= height || box_width >= width) continue;
    EraseBox box;
    box.height = static_cast<int>(box_height);
    box.width = static_cast<int>(box_width);
    // Corners uniform over the height - box_height + 1 (and width - box_width + 1) places.
    box.y = static_cast<int>(draw(2) * static_cast<double>(height - box_height + 1));
    box.x = static_cast<int>(draw(3) * static_cast<double>(width - box_width + 1));
    return box;
  }
  return {};
}

void erase_image(float* image, std::int64_t channels, std::int64_t height, std::int64_t width,
                 const EraseBox& box) {
  if (box.empty()) return;
  for (std::int64_t c = 0; c < channels; ++c)
    for (std::int64_t y = box.y; y < box.y + box.height; ++y) {
      float* row = image + (c * height + y) * width + box.x;
      std::fill(row, row + box.width, 0.0f);
    }
}

void augment_batch(Tensor& images, const AugmentOptions& options, std::uint64_t epoch,
                   std::int64_t first_position) {
  if (!options.enabled()) return;
  if (!images.defined() || images.ndim() != 4 || images.dtype() != DType::Float32 ||
      !images.device().is_cpu())
    throw Error("augment_batch: images must be float32 [B, C, H, W] on the host, got " +
                (images.defined() ? images.str() : std::string("an undefined tensor")));
  if (first_position < 0)
    throw Error("augment_batch: negative sample position " + std::to_string(first_position));
  const std::int64_t count = images.dim(0), channels = images.dim(1);
  const std::int64_t height = images.dim(2), width = images.dim(3);
  const std::int64_t per_image = channels * height * width;
  float* x = images.data<float>();
  // A batch of 64 28x28 images takes microseconds on one thread; threads pay off only on bigger
  // batches (the same threshold as the element-wise CPU kernels).
#pragma omp parallel for if (images.numel() > 65536)
  for (std::int64_t i = 0; i < count; ++i) {
    const auto position = static_cast<std::uint64_t>(first_position + i);
    float* image = x + i * per_image;
    augment_image(image, channels, height, width, options.crop_padding,
                  augment_transform(options, epoch, position));
    erase_image(image, channels, height, width, erase_box(options, epoch, position, height, width));
  }
}

}  // namespace dlfs::data
