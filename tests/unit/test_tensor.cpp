#include <gtest/gtest.h>

#include "engine/ops/elementwise.h"
#include "engine/ops/layout.h"
#include "engine/cuda_runtime.h"
#include "engine/tensor.h"
#include "support/tolerance.h"

using namespace sceald;

TEST(Tensor, FactoriesShapeAndAlignment) {
  Tensor t = Tensor::zeros({2, 3, 5});
  EXPECT_EQ(t.numel(), 30);
  EXPECT_EQ(t.strides(), (Shape{15, 5, 1}));
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.raw_data()) % 64, 0u);
  EXPECT_EQ(Tensor::full({4}, 2.5, DType::Float64).to_vector<double>(), (std::vector<double>{2.5, 2.5, 2.5, 2.5}));
  EXPECT_EQ(Tensor::scalar(3.0).dim(), 0);
  EXPECT_EQ(Tensor::scalar(3.0).item<float>(), 3.0f);
}

TEST(Tensor, ViewSharesStorageReshapeOfStridedCopies) {
  Tensor t = Tensor::from_vector<float>({0, 1, 2, 3, 4, 5}, {2, 3});
  Tensor v = t.view({3, 2});
  EXPECT_EQ(v.storage().get(), t.storage().get());
  EXPECT_EQ(t.view({-1}).shape(), (Shape{6}));
  Tensor tr = t.transpose(0, 1);
  EXPECT_FALSE(tr.is_contiguous());
  EXPECT_EQ(tr.storage().get(), t.storage().get());
  EXPECT_EQ(tr.to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_THROW(tr.view({6}), Error);
  Tensor r = tr.reshape({6});
  EXPECT_NE(r.storage().get(), t.storage().get());
  EXPECT_EQ(r.to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
}

TEST(Tensor, ErrorsNameTheProblem) {
  Tensor t = Tensor::zeros({2, 3});
  try {
    (void)t.view({4, 2});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[4, 2]"), std::string::npos) << e.what();
  }
  try {
    (void)t.data<double>();
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("float32"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Tensor().shape(), Error);
  EXPECT_THROW(Tensor::zeros({2}, DType::Int64).set_requires_grad(true), Error);
}

TEST(Tensor, DtypeConversionAndCopy) {
  Tensor t = Tensor::from_vector<double>({1.5, -2.25}, {2});
  Tensor f = t.to(DType::Float32);
  EXPECT_EQ(f.dtype(), DType::Float32);
  EXPECT_EQ(f.to_vector<float>(), (std::vector<float>{1.5f, -2.25f}));
  Tensor i = t.to(DType::Int64);
  EXPECT_EQ(i.to_vector<std::int64_t>(), (std::vector<std::int64_t>{1, -2}));
}

TEST(Tensor, CudaWithoutGpuIsAClearError) {
  if (cuda::device_count() > 0) GTEST_SKIP() << "a GPU is present; this test covers machines without one";
  try {
    (void)Tensor::zeros({2}).to(Device::cuda(0));
    FAIL();
  } catch (const Error& e) {
    EXPECT_FALSE(std::string(e.what()).empty());
  }
}
