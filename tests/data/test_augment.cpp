// Training-time augmentation (data/augment.hpp): the --augment text, the seeded transforms'
// statistics, the pixels they produce against a reference built the long way (pad, crop, flip),
// and their determinism through BatchIterator: same seed, sharded, resumed with skip().
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "dlfs/data/augment.hpp"
#include "dlfs/data/batch_iterator.hpp"
#include "dlfs/data/synthetic.hpp"
#include "dlfs/runtime/device_pools.hpp"
#include "dlfs/runtime/error.hpp"

namespace dlfs::data {
namespace {

// n images [C, H, W] whose pixels all differ: sample s, element k holds s * C*H*W + k + 1 (never
// 0, so a padding pixel is told from an image pixel), labelled s % classes.
Dataset distinct_pixel_dataset(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w,
                               int classes = 3) {
  Dataset d;
  d.num_classes = classes;
  d.images = Tensor::empty({n, c, h, w});
  d.labels = Tensor::empty({n}, DType::Int32);
  float* x = d.images.data<float>();
  for (std::int64_t i = 0; i < d.images.numel(); ++i) x[i] = static_cast<float>(i + 1);
  for (std::int64_t s = 0; s < n; ++s)
    d.labels.data<std::int32_t>()[s] = static_cast<std::int32_t>(s % classes);
  return d;
}

// The transform the long way: zero-pad P on each side, cut the H x W window at (dy, dx), then
// mirror each row when flipped.
std::vector<float> reference_transform(const float* image, std::int64_t c, std::int64_t h,
                                       std::int64_t w, int p, const ImageTransform& t) {
  const std::int64_t ph = h + 2 * p, pw = w + 2 * p;
  std::vector<float> padded(static_cast<std::size_t>(c * ph * pw), 0.0f);
  for (std::int64_t k = 0; k < c; ++k)
    for (std::int64_t y = 0; y < h; ++y)
      for (std::int64_t x = 0; x < w; ++x)
        padded[static_cast<std::size_t>((k * ph + y + p) * pw + x + p)] =
            image[(k * h + y) * w + x];
  std::vector<float> out(static_cast<std::size_t>(c * h * w));
  for (std::int64_t k = 0; k < c; ++k)
    for (std::int64_t y = 0; y < h; ++y)
      for (std::int64_t x = 0; x < w; ++x) {
        const std::int64_t from_x = t.flip ? w - 1 - x : x;
        out[static_cast<std::size_t>((k * h + y) * w + x)] =
            padded[static_cast<std::size_t>((k * ph + y + t.dy) * pw + from_x + t.dx)];
      }
  return out;
}

std::vector<float> pixels(const Batch& b) {
  return b.images.to_vector<float>();
}

// The images of each batch left in the iterator's epoch.
std::vector<std::vector<float>> rest_of_epoch_images(BatchIterator& it) {
  std::vector<std::vector<float>> out;
  Batch b;
  while (it.next(b)) out.push_back(pixels(b));
  return out;
}

const char* const kBadSpecMessage =
    "option --augment: '%s' is not off, on (crop:4,flip) or a comma list of crop:P (P from 1 to "
    "1024), flip and erase[:p] (p from 0.000001 to 1), each at most once, such as "
    "crop:2,flip,erase:0.25";

std::string bad_spec_message(const std::string& spec) {
  std::string m = kBadSpecMessage;
  m.replace(m.find("%s"), 2, spec);
  return m;
}

TEST(AugmentOptions, ParsesEachFormAndDescribesItCanonically) {
  const AugmentOptions off = parse_augment("off");
  EXPECT_EQ(off.crop_padding, 0);
  EXPECT_FALSE(off.horizontal_flip);
  EXPECT_FALSE(off.enabled());
  EXPECT_EQ(describe(off), "off");

  const AugmentOptions on = parse_augment("on");
  EXPECT_EQ(on.crop_padding, 4);
  EXPECT_TRUE(on.horizontal_flip);
  EXPECT_EQ(describe(on), "crop:4,flip");

  const std::map<std::string, std::string> canonical = {
      {"flip", "flip"},
      {"crop:2", "crop:2"},
      {"crop:2,flip", "crop:2,flip"},
      {"flip,crop:2", "crop:2,flip"},
      {"crop:1024", "crop:1024"},
      {"crop:007", "crop:7"},
      {"erase", "erase:0.5"},
      {"erase:0.25", "erase:0.25"},
      {"erase:.25", "erase:0.25"},
      {"erase:1", "erase:1"},
      {"erase:1.0", "erase:1"},
      {"erase:0.000001", "erase:0.000001"},
      {"erase:0.123456", "erase:0.123456"},
      {"erase,flip", "flip,erase:0.5"},
      {"erase:0.3,crop:4,flip", "crop:4,flip,erase:0.3"}};
  for (const auto& [spec, text] : canonical) {
    SCOPED_TRACE(spec);
    const AugmentOptions parsed = parse_augment(spec);
    EXPECT_EQ(describe(parsed), text);
    // describe's text reads back as the same options.
    const AugmentOptions again = parse_augment(describe(parsed));
    EXPECT_EQ(again.crop_padding, parsed.crop_padding);
    EXPECT_EQ(again.horizontal_flip, parsed.horizontal_flip);
    EXPECT_EQ(again.erase_probability, parsed.erase_probability);
    EXPECT_EQ(again.seed, 0u);
  }
  EXPECT_EQ(parse_augment("erase").erase_probability, 0.5);
  EXPECT_EQ(parse_augment("erase:0.25").erase_probability, 0.25);
  EXPECT_TRUE(parse_augment("erase:0.25").enabled());
  EXPECT_FALSE(parse_augment("erase:0.25").horizontal_flip);
  EXPECT_EQ(parse_augment("erase:0.25").crop_padding, 0);
  EXPECT_EQ(parse_augment("on").erase_probability, 0.0);  // on stays crop:4,flip
  EXPECT_EQ(parse_augment("crop:3").crop_padding, 3);
  EXPECT_FALSE(parse_augment("crop:3").horizontal_flip);
  EXPECT_EQ(parse_augment("flip").crop_padding, 0);
  EXPECT_TRUE(parse_augment("flip").horizontal_flip);
}

TEST(AugmentOptions, RefusesAnythingElseWithOneSentenceNamingTheOption) {
  for (const std::string spec : {"",
                                 "On",
                                 "yes",
                                 "crop",
                                 "crop:",
                                 "crop:0",
                                 "crop:-1",
                                 "crop:+2",
                                 "crop: 2",
                                 "crop:1025",
                                 "crop:99999999999",
                                 "crop:2x",
                                 "crop:1e1",
                                 "crop:2,",
                                 ",flip",
                                 "flip,",
                                 "flip,flip",
                                 "crop:2,crop:3",
                                 "on,flip",
                                 "off,flip",
                                 "mirror",
                                 "flip;crop:2",
                                 "crop=2",
                                 "erase:",
                                 "erase:0",
                                 "erase:0.0",
                                 "erase:1.5",
                                 "erase:2",
                                 "erase:01",
                                 "erase:-0.5",
                                 "erase:+0.5",
                                 "erase:0.5.",
                                 "erase:1.",
                                 "erase:.",
                                 "erase:0.1234567",
                                 "erase:1e-1",
                                 "erase:nan",
                                 "erase: 0.5",
                                 "erase,erase",
                                 "erase:0.5,erase"}) {
    SCOPED_TRACE("'" + spec + "'");
    try {
      parse_augment(spec);
      ADD_FAILURE() << "accepted";
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()), bad_spec_message(spec));
    }
  }
}

TEST(AugmentTransform, FlipsHalfTheImages) {
  AugmentOptions o = parse_augment("flip");
  o.seed = 17;
  int flipped = 0;
  for (std::uint64_t position = 0; position < 4000; ++position) {
    const ImageTransform t = augment_transform(o, 2, position);
    EXPECT_EQ(t.dy, 0);  // no crop asked for
    EXPECT_EQ(t.dx, 0);
    flipped += t.flip ? 1 : 0;
  }
  // A fair coin: 2000 +- 32 (one standard deviation); 200 away is over six of them.
  EXPECT_GE(flipped, 1800);
  EXPECT_LE(flipped, 2200);
  // Without flip asked for, nothing is flipped.
  AugmentOptions crop_only = parse_augment("crop:4");
  crop_only.seed = 17;
  for (std::uint64_t position = 0; position < 1000; ++position)
    ASSERT_FALSE(augment_transform(crop_only, 2, position).flip);
}

TEST(AugmentTransform, CropOffsetsCoverEveryValueEvenlyAndIndependently) {
  AugmentOptions o = parse_augment("on");  // P = 4: offsets 0..8
  o.seed = 5;
  const int values = 9, images = 9000;
  std::vector<int> dy_count(values), dx_count(values);
  std::map<std::pair<int, int>, int> pairs;
  int flipped = 0;
  for (std::uint64_t position = 0; position < static_cast<std::uint64_t>(images); ++position) {
    const ImageTransform t = augment_transform(o, 0, position);
    ASSERT_GE(t.dy, 0);
    ASSERT_LT(t.dy, values);
    ASSERT_GE(t.dx, 0);
    ASSERT_LT(t.dx, values);
    ++dy_count[static_cast<std::size_t>(t.dy)];
    ++dx_count[static_cast<std::size_t>(t.dx)];
    ++pairs[{t.dy, t.dx}];
    flipped += t.flip ? 1 : 0;
  }
  // 1000 expected per value, standard deviation 30: 850..1150 is five of them.
  for (int v = 0; v < values; ++v) {
    SCOPED_TRACE("offset " + std::to_string(v));
    EXPECT_GE(dy_count[static_cast<std::size_t>(v)], 850);
    EXPECT_LE(dy_count[static_cast<std::size_t>(v)], 1150);
    EXPECT_GE(dx_count[static_cast<std::size_t>(v)], 850);
    EXPECT_LE(dx_count[static_cast<std::size_t>(v)], 1150);
  }
  // dy and dx are drawn apart: all 81 windows occur, each about 111 times (sd 10.5).
  EXPECT_EQ(pairs.size(), 81u);
  for (const auto& [window, count] : pairs) {
    EXPECT_GE(count, 60) << window.first << "," << window.second;
    EXPECT_LE(count, 165) << window.first << "," << window.second;
  }
  EXPECT_GE(flipped, 4100);  // 4500 +- 47
  EXPECT_LE(flipped, 4900);
}

TEST(AugmentTransform, DependsOnSeedEpochAndPositionOnly) {
  AugmentOptions a = parse_augment("crop:4,flip"), b = a;
  a.seed = b.seed = 3;
  auto same = [](const ImageTransform& x, const ImageTransform& y) {
    return x.dy == y.dy && x.dx == y.dx && x.flip == y.flip;
  };
  int differ_by_epoch = 0, differ_by_seed = 0;
  AugmentOptions other_seed = a;
  other_seed.seed = 4;
  for (std::uint64_t position = 0; position < 100; ++position) {
    EXPECT_TRUE(same(augment_transform(a, 1, position), augment_transform(b, 1, position)));
    differ_by_epoch +=
        same(augment_transform(a, 1, position), augment_transform(a, 2, position)) ? 0 : 1;
    differ_by_seed +=
        same(augment_transform(a, 1, position), augment_transform(other_seed, 1, position)) ? 0 : 1;
  }
  // Two independent draws of 162 equally likely transforms agree 1 time in 162.
  EXPECT_GE(differ_by_epoch, 90);
  EXPECT_GE(differ_by_seed, 90);
}

TEST(EraseBox, ErasesTheAskedShareOfImagesWithBoxesOfTorchvisionsSizesInside) {
  AugmentOptions o = parse_augment("erase:0.25");
  o.seed = 6;
  const std::int64_t h = 28, w = 28;
  const int images = 16000;
  int erased = 0;
  double area_sum = 0, y_share_sum = 0, x_share_sum = 0;
  int taller = 0, wider = 0, at_top = 0, at_bottom = 0;
  for (std::uint64_t position = 0; position < static_cast<std::uint64_t>(images); ++position) {
    const EraseBox b = erase_box(o, 3, position, h, w);
    if (b.empty()) continue;
    ++erased;
    // Strictly smaller than the image on each side, and inside it.
    ASSERT_GE(b.height, 1);
    ASSERT_LT(b.height, h);
    ASSERT_GE(b.width, 1);
    ASSERT_LT(b.width, w);
    ASSERT_GE(b.y, 0);
    ASSERT_LE(b.y + b.height, h);
    ASSERT_GE(b.x, 0);
    ASSERT_LE(b.x + b.width, w);
    // Area 2% to 33% of 784 pixels (15.7 to 258.7) and aspect 0.3 to 3.3, before each side is
    // rounded to whole pixels: half a pixel per side stretches the bounds below.
    const double area = static_cast<double>(b.height * b.width);
    EXPECT_GE(area, 0.02 * 784 * 0.7) << b.height << "x" << b.width;
    EXPECT_LE(area, 0.33 * 784 * 1.15) << b.height << "x" << b.width;
    const double aspect = static_cast<double>(b.height) / b.width;
    EXPECT_GE(aspect, 0.3 * 0.75) << b.height << "x" << b.width;
    EXPECT_LE(aspect, 3.3 / 0.75) << b.height << "x" << b.width;
    area_sum += area / 784;
    taller += b.height > b.width;
    wider += b.width > b.height;
    // Where the corner lies among its possible places: uniform, so 0.5 on average.
    y_share_sum += static_cast<double>(b.y) / static_cast<double>(h - b.height);
    x_share_sum += static_cast<double>(b.x) / static_cast<double>(w - b.width);
    at_top += b.y == 0;
    at_bottom += b.y + b.height == h;
  }
  // Almost every image picked (p 0.25) finds a box in 10 tries: 4000 +- 55.
  EXPECT_GE(erased, 3700);
  EXPECT_LE(erased, 4300);
  // Uniform area share in [0.02, 0.33]: mean 0.175, less a little as the largest boxes with
  // extreme aspects do not fit and are drawn again.
  EXPECT_GE(area_sum / erased, 0.14);
  EXPECT_LE(area_sum / erased, 0.18);
  // The log-uniform aspect is symmetric: as many tall boxes as wide ones (within 10%).
  EXPECT_NEAR(static_cast<double>(taller) / wider, 1.0, 0.1);
  EXPECT_NEAR(y_share_sum / erased, 0.5, 0.03);
  EXPECT_NEAR(x_share_sum / erased, 0.5, 0.03);
  // Both edges are reached.
  EXPECT_GT(at_top, 20);
  EXPECT_GT(at_bottom, 20);

  // p = 1 erases every image; without erase, none.
  AugmentOptions always = parse_augment("erase:1");
  AugmentOptions never = parse_augment("crop:4,flip");
  for (std::uint64_t position = 0; position < 500; ++position) {
    EXPECT_FALSE(erase_box(always, 0, position, h, w).empty());
    EXPECT_TRUE(erase_box(never, 0, position, h, w).empty());
  }
}

TEST(EraseBox, KeepsEveryImagesCropAndFlipAndDependsOnSeedEpochAndPositionOnly) {
  AugmentOptions plain = parse_augment("crop:4,flip"), erased = parse_augment("crop:4,flip,erase");
  plain.seed = erased.seed = 12;
  auto same_box = [](const EraseBox& a, const EraseBox& b) {
    return a.y == b.y && a.x == b.x && a.height == b.height && a.width == b.width;
  };
  AugmentOptions other_seed = erased;
  other_seed.seed = 13;
  int differ_by_epoch = 0, differ_by_seed = 0, differ_by_position = 0;
  for (std::uint64_t position = 0; position < 200; ++position) {
    const ImageTransform a = augment_transform(plain, 2, position);
    const ImageTransform b = augment_transform(erased, 2, position);
    EXPECT_TRUE(a.dy == b.dy && a.dx == b.dx && a.flip == b.flip) << position;
    const EraseBox box = erase_box(erased, 2, position, 28, 28);
    EXPECT_TRUE(same_box(box, erase_box(erased, 2, position, 28, 28)));
    differ_by_epoch += !same_box(box, erase_box(erased, 3, position, 28, 28));
    differ_by_seed += !same_box(box, erase_box(other_seed, 2, position, 28, 28));
    differ_by_position += !same_box(box, erase_box(erased, 2, position + 200, 28, 28));
  }
  // Two independent draws agree when both leave the image whole (1 in 4) or, rarely, by chance.
  EXPECT_GE(differ_by_epoch, 120);
  EXPECT_GE(differ_by_seed, 120);
  EXPECT_GE(differ_by_position, 120);
}

TEST(EraseImage, ZeroesTheBoxInEveryChannelAndNothingElse) {
  // 2 x 3 x 4, pixels 1..24; the box is rows 1-2, columns 1-2.
  std::vector<float> image(24);
  for (std::size_t i = 0; i < image.size(); ++i) image[i] = static_cast<float>(i + 1);
  EraseBox box;
  box.y = 1;
  box.x = 1;
  box.height = 2;
  box.width = 2;
  erase_image(image.data(), 2, 3, 4, box);
  EXPECT_EQ(image, (std::vector<float>{1,  2,  3,  4,  5,  0, 0, 8,  9,  0, 0, 12,
                                       13, 14, 15, 16, 17, 0, 0, 20, 21, 0, 0, 24}));
  // An empty box changes nothing.
  std::vector<float> whole = {1, 2, 3, 4};
  erase_image(whole.data(), 1, 2, 2, EraseBox{});
  EXPECT_EQ(whole, (std::vector<float>{1, 2, 3, 4}));
}

TEST(AugmentImage, FlippedAndCroppedImageMatchesTheHandComputedOne) {
  // 1 x 3 x 4, pixels 1..12; P = 1, window at (0, 2) of the 5 x 6 padded image, then mirrored.
  //   padded           window (rows 0-2, cols 2-5)   flipped
  //   0 0  0  0  0 0   0 0 0 0                       0 0 0 0
  //   0 1  2  3  4 0   2 3 4 0                       0 4 3 2
  //   0 5  6  7  8 0   6 7 8 0                       0 8 7 6
  //   0 9 10 11 12 0
  //   0 0  0  0  0 0
  std::vector<float> image = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  augment_image(image.data(), 1, 3, 4, 1, {0, 2, true});
  EXPECT_EQ(image, (std::vector<float>{0, 0, 0, 0, 0, 4, 3, 2, 0, 8, 7, 6}));

  // The window moved down and left instead (rows 2-4, cols 0-3), not flipped.
  std::vector<float> other = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  augment_image(other.data(), 1, 3, 4, 1, {2, 0, false});
  EXPECT_EQ(other, (std::vector<float>{0, 5, 6, 7, 0, 9, 10, 11, 0, 0, 0, 0}));

  // The centred window, flipped only: each row reversed, nothing padded.
  std::vector<float> mirrored = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  augment_image(mirrored.data(), 1, 3, 4, 1, {1, 1, true});
  EXPECT_EQ(mirrored, (std::vector<float>{4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9}));
}

TEST(AugmentBatch, EveryImageMatchesThePaddedCroppedFlippedReference) {
  // Three channels, odd sizes, and a padding larger than the image (whole windows of zeros).
  for (const int p : {1, 2, 7}) {
    SCOPED_TRACE("P = " + std::to_string(p));
    const std::int64_t n = 300, c = 3, h = 5, w = 6;
    const Dataset d = distinct_pixel_dataset(n, c, h, w);
    Tensor batch = d.images.clone();
    AugmentOptions o;
    o.crop_padding = p;
    o.horizontal_flip = true;
    o.seed = 11;
    const std::int64_t first_position = 40;
    augment_batch(batch, o, 3, first_position);
    const float* before = d.images.data<float>();
    const float* after = batch.data<float>();
    for (std::int64_t i = 0; i < n; ++i) {
      const ImageTransform t =
          augment_transform(o, 3, static_cast<std::uint64_t>(first_position + i));
      const std::vector<float> expected =
          reference_transform(before + i * c * h * w, c, h, w, p, t);
      const std::vector<float> got(after + i * c * h * w, after + (i + 1) * c * h * w);
      ASSERT_EQ(got, expected) << "image " << i << ": dy " << t.dy << " dx " << t.dx << " flip "
                               << t.flip;
    }
  }
}

TEST(AugmentBatch, ErasingZeroesEachImagesBoxOfTheCroppedFlippedReference) {
  const std::int64_t n = 300, c = 2, h = 9, w = 7;
  const Dataset d = distinct_pixel_dataset(n, c, h, w);
  Tensor batch = d.images.clone();
  AugmentOptions o = parse_augment("crop:2,flip,erase:0.6");
  o.seed = 4;
  augment_batch(batch, o, 1, 10);
  const float* before = d.images.data<float>();
  const float* after = batch.data<float>();
  int erased = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const auto position = static_cast<std::uint64_t>(10 + i);
    std::vector<float> expected =
        reference_transform(before + i * c * h * w, c, h, w, 2, augment_transform(o, 1, position));
    const EraseBox box = erase_box(o, 1, position, h, w);
    erased += !box.empty();
    for (std::int64_t k = 0; k < c; ++k)
      for (std::int64_t y = box.y; y < box.y + box.height; ++y)
        for (std::int64_t x = box.x; x < box.x + box.width; ++x)
          expected[static_cast<std::size_t>((k * h + y) * w + x)] = 0.0f;
    const std::vector<float> got(after + i * c * h * w, after + (i + 1) * c * h * w);
    ASSERT_EQ(got, expected) << "image " << i << ": box " << box.y << "," << box.x << " "
                             << box.height << "x" << box.width;
  }
  EXPECT_GE(erased, 140);  // 180 +- 8.5 (a 9 x 7 image fits most boxes)
}

TEST(AugmentBatch, OffLeavesImagesBitIdentical) {
  SyntheticOptions so;
  so.samples = 64;
  so.seed = 2;
  const Dataset d = make_synthetic_blobs(so);
  Tensor batch = d.images.clone();
  AugmentOptions off = parse_augment("off");
  off.seed = 9;
  augment_batch(batch, off, 0, 0);
  ASSERT_EQ(batch.nbytes(), d.images.nbytes());
  EXPECT_EQ(std::memcmp(batch.raw_data(), d.images.raw_data(), batch.nbytes()), 0);

  // An iterator told "off" hands out exactly the batches of one never told anything.
  BatchIterator plain(d, 10, true, 4), told_off(d, 10, true, 4);
  told_off.set_augmentation(off);
  plain.start_epoch(1);
  told_off.start_epoch(1);
  EXPECT_EQ(rest_of_epoch_images(told_off), rest_of_epoch_images(plain));
}

TEST(AugmentBatch, SameSeedSameImagesOtherSeedOtherImages) {
  SyntheticOptions so;
  so.samples = 64;
  so.seed = 2;
  const Dataset d = make_synthetic_blobs(so);
  AugmentOptions o = parse_augment("on");
  o.seed = 21;
  Tensor first = d.images.clone(), second = d.images.clone(), other = d.images.clone();
  augment_batch(first, o, 0, 0);
  augment_batch(second, o, 0, 0);
  EXPECT_EQ(std::memcmp(first.raw_data(), second.raw_data(), first.nbytes()), 0);
  EXPECT_NE(std::memcmp(first.raw_data(), d.images.raw_data(), first.nbytes()), 0);
  o.seed = 22;
  augment_batch(other, o, 0, 0);
  // Images differ one by one, not only somewhere: most of the 64 got another transform.
  const std::int64_t per = d.sample_numel();
  int differing = 0;
  for (std::int64_t i = 0; i < 64; ++i)
    differing += std::memcmp(first.data<float>() + i * per, other.data<float>() + i * per,
                             static_cast<std::size_t>(per) * sizeof(float)) != 0;
  EXPECT_GE(differing, 50);
}

TEST(AugmentBatch, RefusesWhatIsNotAHostFloatImageBatch) {
  const AugmentOptions o = parse_augment("on");
  Tensor flat = Tensor::zeros({4, 16});
  EXPECT_THROW(augment_batch(flat, o, 0, 0), Error);
  Tensor doubles = Tensor::zeros({2, 1, 4, 4}, DType::Float64);
  EXPECT_THROW(augment_batch(doubles, o, 0, 0), Error);
  Tensor fine = Tensor::zeros({2, 1, 4, 4});
  EXPECT_THROW(augment_batch(fine, o, 0, -1), Error);
}

TEST(AugmentedBatchIterator, AugmentsEachSampleByItsPositionAndKeepsLabels) {
  const Dataset d = distinct_pixel_dataset(37, 2, 4, 5);
  AugmentOptions o = parse_augment("crop:2,flip");
  o.seed = 8;
  BatchIterator it(d, 8, /*shuffle=*/true, 6);
  it.set_augmentation(o);
  it.start_epoch(4);
  const std::int64_t per = d.sample_numel();
  Batch b;
  std::int64_t position = 0, changed = 0;
  while (it.next(b)) {
    const std::vector<float> got = pixels(b);
    const std::vector<std::int32_t> labels = b.labels.to_vector<std::int32_t>();
    for (std::int64_t i = 0; i < b.size(); ++i, ++position) {
      const std::int64_t sample = it.order()[static_cast<std::size_t>(position)];
      EXPECT_EQ(labels[static_cast<std::size_t>(i)], sample % 3);
      const ImageTransform t = augment_transform(o, 4, static_cast<std::uint64_t>(position));
      const std::vector<float> expected =
          reference_transform(d.images.data<float>() + sample * per, 2, 4, 5, 2, t);
      ASSERT_EQ(std::vector<float>(got.begin() + i * per, got.begin() + (i + 1) * per), expected)
          << "position " << position;
      changed += (t.dy != 2 || t.dx != 2 || t.flip) ? 1 : 0;
    }
  }
  EXPECT_EQ(position, 37);
  EXPECT_GE(changed, 30);  // 1 in 50 transforms is the identity
  // The dataset itself is untouched: batches are copies.
  EXPECT_EQ(d.images.to_vector<float>(),
            distinct_pixel_dataset(37, 2, 4, 5).images.to_vector<float>());
}

TEST(AugmentedBatchIterator, ShardsGetTheTransformsOfTheUnshardedRun) {
  // 3 ranks, global batch 8 over 30 samples: shards of 3, 3 and 2, then 2, 2 and 2 at the end.
  const Dataset d = distinct_pixel_dataset(30, 1, 6, 6);
  AugmentOptions o = parse_augment("on");
  o.seed = 13;
  for (const std::int64_t epoch : {0, 5}) {
    SCOPED_TRACE("epoch " + std::to_string(epoch));
    BatchIterator whole(d, 8, true, 5);
    whole.set_augmentation(o);
    whole.start_epoch(epoch);
    const std::vector<std::vector<float>> expected = rest_of_epoch_images(whole);
    std::vector<std::vector<float>> joined(expected.size());
    for (int rank = 0; rank < 3; ++rank) {
      BatchIterator shard(d, 8, true, 5);
      shard.set_shard(rank, 3);
      shard.set_augmentation(o);
      shard.start_epoch(epoch);
      const std::vector<std::vector<float>> parts = rest_of_epoch_images(shard);
      ASSERT_EQ(parts.size(), expected.size());
      for (std::size_t batch = 0; batch < parts.size(); ++batch)
        joined[batch].insert(joined[batch].end(), parts[batch].begin(), parts[batch].end());
    }
    EXPECT_EQ(joined, expected);
  }
}

// A run interrupted after 3 batches of epoch 1 and resumed with skip() gets the uninterrupted
// run's batches, and both go on alike.
void skip_resumes_with_the_same_augmented_batches(AugmentOptions o) {
  const Dataset d = distinct_pixel_dataset(50, 1, 6, 6);
  o.seed = 2;
  // The uninterrupted run goes through epoch 0, then epoch 1.
  BatchIterator uninterrupted(d, 8, true, 9);
  uninterrupted.set_augmentation(o);
  const std::vector<std::vector<float>> epoch_zero = rest_of_epoch_images(uninterrupted);
  uninterrupted.start_epoch(1);
  const std::vector<std::vector<float>> all = rest_of_epoch_images(uninterrupted);
  ASSERT_EQ(all.size(), 7u);
  // A resumed run: a new iterator that skips the 3 batches done before the interruption.
  BatchIterator resumed(d, 8, true, 9);
  resumed.set_augmentation(o);
  resumed.start_epoch(1);
  resumed.skip(3);
  EXPECT_EQ(rest_of_epoch_images(resumed),
            std::vector<std::vector<float>>(all.begin() + 3, all.end()));
  // And the next epoch goes on with fresh transforms, identical in both.
  uninterrupted.start_epoch(2);
  resumed.start_epoch(2);
  const std::vector<std::vector<float>> next_epoch = rest_of_epoch_images(resumed);
  EXPECT_EQ(rest_of_epoch_images(uninterrupted), next_epoch);
  EXPECT_NE(next_epoch.front(), all.front());
  EXPECT_NE(all.front(), epoch_zero.front());
}

TEST(AugmentedBatchIterator, SkipResumesWithTheSameAugmentedBatches) {
  for (const std::string spec : {"on", "crop:4,flip,erase"}) {
    SCOPED_TRACE(spec);
    skip_resumes_with_the_same_augmented_batches(parse_augment(spec));
  }
}

TEST(AugmentedBatchIterator, SteadyStateMakesNoRawHostAllocations) {
  SyntheticOptions so;
  so.samples = 1000;
  so.seed = 3;
  BatchIterator it(make_synthetic_blobs(so), 64, true, 1);
  AugmentOptions o = parse_augment("on");
  o.seed = 1;
  it.set_augmentation(o);
  CachingPool& pool = memory_pool(Device::cpu());
  Batch b;
  ASSERT_TRUE(it.next(b));
  const std::uint64_t raw_after_first = pool.stats().raw_allocations;
  const std::uint64_t allocations_after_first = pool.stats().allocations;
  std::int64_t batches = 1;
  for (int epoch = 0; epoch < 5; ++epoch) {
    if (epoch > 0) it.start_epoch(epoch);
    while (it.next(b)) ++batches;
  }
  EXPECT_EQ(pool.stats().raw_allocations, raw_after_first);
  // Augmenting takes nothing from the pool: only each batch's images and labels.
  EXPECT_EQ(pool.stats().allocations - allocations_after_first,
            static_cast<std::uint64_t>(2 * (batches - 1)));
}

}  // namespace
}  // namespace dlfs::data
