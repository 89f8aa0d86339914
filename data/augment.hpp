#pragma once
// Training-time data augmentation (`dlfs train --augment`): a random crop (pad P zero pixels on
// each side, crop back to the original size at a random offset), a random horizontal flip, then
// random erasing (zero a random rectangle of the image with probability p), the order of
// torchvision's RandomCrop(padding=P) + RandomHorizontalFlip() + RandomErasing(p) with
// RandomErasing's default sizes. Zero is crop's padding value too: after --normalize, the
// training split's mean pixel.
//
// Each image's transform is a pure function of (seed, epoch, the sample's position in the
// epoch's order), drawn from counter-based random numbers. So one seed gives the same augmented
// batches, a run resumed part-way through an epoch (BatchIterator::skip) continues with the
// transforms the uninterrupted run would have used, and a data-parallel rank's shard gets the
// transforms one process would give the same samples.
#include <cstdint>
#include <string>

#include "dlfs/runtime/tensor.hpp"

namespace dlfs::data {

struct AugmentOptions {
  int crop_padding = 0;  // P: 0 means no crop
  bool horizontal_flip = false;
  std::uint64_t seed = 0;
  double erase_probability = 0;  // p: each image's chance of having a rectangle zeroed

  bool enabled() const { return crop_padding > 0 || horizontal_flip || erase_probability > 0; }
};

// The largest crop padding parse_augment accepts.
constexpr int kMaxCropPadding = 1024;

// Reads --augment's text: "off", "on" (crop:4,flip), or a comma list of "crop:P" (P from 1 to
// kMaxCropPadding), "flip" and "erase" (p = 0.5) or "erase:p" (p a decimal in (0, 1] with at most
// six digits after the point), each at most once. The seed is left 0. Throws InputError otherwise.
AugmentOptions parse_augment(const std::string& spec);
// The canonical text parse_augment reads back: "off", "flip", "crop:4", "crop:4,flip",
// "crop:4,flip,erase:0.5".
std::string describe(const AugmentOptions& options);

// One image's transform: the crop window starts at (dy, dx) of the padded image, each in
// [0, 2P]; (P, P) is the uncropped image.
struct ImageTransform {
  int dy = 0, dx = 0;
  bool flip = false;
};

// The transform of the sample at `position` in epoch `epoch`'s order.
ImageTransform augment_transform(const AugmentOptions& options, std::uint64_t epoch,
                                 std::uint64_t position);

// Applies `transform` in place to one image of `channels` planes of height x width floats:
// out[c][y][x] = in[c][y + dy - P][x' + dx - P] with x' = width - 1 - x when flipped, else x,
// and 0 where that lies outside the image.
void augment_image(float* image, std::int64_t channels, std::int64_t height, std::int64_t width,
                   int crop_padding, const ImageTransform& transform);

// The rectangle random erasing zeroes in one image: rows [y, y + height), columns [x, x + width);
// height 0 when the image is left whole.
struct EraseBox {
  int y = 0, x = 0, height = 0, width = 0;
  bool empty() const { return height == 0; }
};

// The erase box of the sample at `position` in epoch `epoch`'s order, for height x width images:
// with probability p, torchvision RandomErasing's draw: up to 10 tries of an area from 2% to 33%
// of the image and an aspect ratio from 0.3 to 3.3 (log-uniform), sides rounded to whole pixels,
// the first that fits strictly inside the image placed uniformly. Drawn from numbers apart from
// the crop's and flip's, so adding erase to a spec keeps every image's crop and flip.
EraseBox erase_box(const AugmentOptions& options, std::uint64_t epoch, std::uint64_t position,
                   std::int64_t height, std::int64_t width);

// Zeroes `box` in every one of the image's `channels` planes of height x width floats.
void erase_image(float* image, std::int64_t channels, std::int64_t height, std::int64_t width,
                 const EraseBox& box);

// Augments a host float32 [B, C, H, W] batch in place; image i is the sample at position
// first_position + i of epoch `epoch`'s order. Allocates nothing. Does nothing when the options
// are off.
void augment_batch(Tensor& images, const AugmentOptions& options, std::uint64_t epoch,
                   std::int64_t first_position);

}  // namespace dlfs::data
