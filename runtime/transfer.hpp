#pragma once
// Byte copies between any two devices. Copies that touch the host finish before returning;
// device-to-device copies are queued on the destination's stream.
#include <cstddef>

#include "dlfs/runtime/device.hpp"

namespace dlfs {

void copy_bytes(void* dst, const Device& dst_device, const void* src, const Device& src_device,
                std::size_t bytes);

}  // namespace dlfs
