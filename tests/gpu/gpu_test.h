// GPU tests skip with a visible message where no GPU (or no CUDA build) is present.
#pragma once

#include <gtest/gtest.h>

#include "engine/cuda_runtime.h"

#define SCEALD_REQUIRE_GPU()                                                                      \
  do {                                                                                            \
    if (::sceald::cuda::device_count() == 0)                                                      \
      GTEST_SKIP() << "no GPU here (" << ::sceald::cuda::unavailable_reason() << "); GPU test skipped"; \
  } while (0)
