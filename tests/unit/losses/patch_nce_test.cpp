#include "fashioncut/losses/patch_nce.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "support/test_support.h"
#include "unit/losses/gradcheck.h"

namespace fashioncut::losses {
namespace {

using PatchNceLossTest = fashioncut::testing::SeedingFixture;

/// `rows` orthonormal vectors in R^dim (rows <= dim), float64.
torch::Tensor orthonormal_rows(int64_t rows, int64_t dim) {
  const auto a = torch::randn({dim, rows}, torch::kDouble);
  const auto [q, r] = torch::linalg::qr(a, "reduced");  // q: [dim, rows], orthonormal columns
  return q.t().contiguous();
}

torch::Tensor unit_rows(int64_t rows, int64_t dim) {
  const auto x = torch::randn({rows, dim}, torch::kDouble);
  return x / x.norm(2, {1}, true);
}

/// Closed form for orthonormal rows and q = k with M patches per negative group:
/// l_pos = 1, one masked negative at -10, M-1 negatives at 0, so
/// loss = -log( e^{1/t} / (e^{1/t} + e^{-10/t} + (M-1) e^0) ) = log(1 + (M-1) e^{-1/t} + e^{-11/t}).
double closed_form(int64_t m, double tau) {
  return std::log(1.0 + static_cast<double>(m - 1) * std::exp(-1.0 / tau) + std::exp(-11.0 / tau));
}

TEST_F(PatchNceLossTest, OrthonormalFeaturesMatchClosedForm) {
  const int64_t batch = 2, patches = 8, dim = 16;
  const auto feats = torch::cat({orthonormal_rows(patches, dim), orthonormal_rows(patches, dim)}, 0);
  for (const double tau : {0.07, 0.5, 1.0}) {
    const auto loss = patch_nce_loss(feats, feats, PatchNceOptions(batch).tau(tau));
    ASSERT_EQ(loss.sizes(), torch::IntArrayRef({batch * patches}));
    const double expected = closed_form(patches, tau);
    for (int64_t i = 0; i < loss.size(0); ++i) EXPECT_NEAR(loss[i].item<double>(), expected, 1e-12 + 1e-9 * expected);
    EXPECT_NEAR(patch_nce_loss_mean(feats, feats, PatchNceOptions(batch).tau(tau)).item<double>(), expected,
                1e-12 + 1e-9 * expected);
  }
  // tau = 1: log(1 + 7/e + e^-11) = 1.2740135 (hand value for 8 patches).
  EXPECT_NEAR(closed_form(8, 1.0), 1.2740135, 1e-6);
  // Default tau 0.07: 7 e^{-1/0.07} = 4.374e-6, i.e. a nearly perfect contrastive match.
  EXPECT_NEAR(closed_form(8, 0.07), 4.37412e-6, 1e-10);
}

TEST_F(PatchNceLossTest, AllNegativesFromMinibatchUsesEveryPatch) {
  const int64_t batch = 2, patches = 8, dim = 16;
  const auto feats = orthonormal_rows(batch * patches, dim);  // orthonormal across the whole batch
  const auto opts = PatchNceOptions(batch).tau(0.5).all_negatives_from_minibatch(true);
  const auto loss = patch_nce_loss(feats, feats, opts);
  EXPECT_TRUE(torch::allclose(loss, torch::full_like(loss, closed_form(batch * patches, 0.5)), 1e-10, 1e-12));
  // Per-image negatives see only 7 zero-logit negatives instead of 15: a smaller loss.
  EXPECT_LT(patch_nce_loss(feats, feats, PatchNceOptions(batch).tau(0.5)).mean().item<double>(),
            loss.mean().item<double>());
}

TEST_F(PatchNceLossTest, MatchesNaiveLoopReference) {
  const int64_t batch = 3, patches = 5, dim = 4;
  const double tau = 0.07;
  const auto q = unit_rows(batch * patches, dim), k = unit_rows(batch * patches, dim);
  const auto loss = patch_nce_loss(q, k, PatchNceOptions(batch).tau(tau));
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t p = 0; p < patches; ++p) {
      const int64_t i = b * patches + p;
      std::vector<double> logits{q[i].dot(k[i]).item<double>() / tau};
      for (int64_t j = 0; j < patches; ++j)
        logits.push_back(j == p ? -10.0 / tau : q[i].dot(k[b * patches + j]).item<double>() / tau);
      double mx = logits[0];
      for (double l : logits) mx = std::max(mx, l);
      double sum = 0.0;
      for (double l : logits) sum += std::exp(l - mx);
      const double expected = -(logits[0] - mx - std::log(sum));
      EXPECT_NEAR(loss[i].item<double>(), expected, 1e-9 * std::max(1.0, expected)) << "row " << i;
    }
  }
}

TEST_F(PatchNceLossTest, NegativesComeFromTheSameImageOnly) {
  const int64_t patches = 6, dim = 8;
  const auto q = unit_rows(2 * patches, dim), k = unit_rows(2 * patches, dim);
  auto k2 = k.clone();
  k2.slice(0, patches) = unit_rows(patches, dim);  // change image 1's keys only
  const auto a = patch_nce_loss(q, k, PatchNceOptions(2)), b = patch_nce_loss(q, k2, PatchNceOptions(2));
  EXPECT_TRUE(torch::equal(a.slice(0, 0, patches), b.slice(0, 0, patches)));
  EXPECT_FALSE(torch::allclose(a.slice(0, patches), b.slice(0, patches)));
  // With negatives from the whole minibatch image 0 does see image 1's keys.
  const auto opts = PatchNceOptions(2).all_negatives_from_minibatch(true);
  EXPECT_FALSE(torch::allclose(patch_nce_loss(q, k, opts).slice(0, 0, patches),
                               patch_nce_loss(q, k2, opts).slice(0, 0, patches)));
}

TEST_F(PatchNceLossTest, KeysAreDetached) {
  auto q = unit_rows(8, 4).requires_grad_(true), k = unit_rows(8, 4).requires_grad_(true);
  patch_nce_loss_mean(q, k, PatchNceOptions(2)).backward();
  EXPECT_TRUE(q.grad().defined());
  EXPECT_GT(q.grad().abs().sum().item<double>(), 0.0);
  EXPECT_FALSE(k.grad().defined());
}

TEST_F(PatchNceLossTest, GradientMatchesCentralDifferences) {
  const auto q = unit_rows(6, 4), k = unit_rows(6, 4);
  // A moderate tau keeps the softmax away from saturation so all entries carry gradient.
  const auto fn = [](const std::vector<torch::Tensor>& in) {
    return patch_nce_loss_mean(in[0], in[1], PatchNceOptions(2).tau(0.5));
  };
  fashioncut::testing::GradCheckOptions opts;
  opts.check = {true, false};  // k is detached inside: only q has a gradient
  fashioncut::testing::expect_gradients_match(fn, {q, k}, opts);
  const auto fn_default = [](const std::vector<torch::Tensor>& in) {
    return patch_nce_loss_mean(in[0], in[1], PatchNceOptions(3));
  };
  fashioncut::testing::expect_gradients_match(fn_default, {q, k}, opts);
}

TEST_F(PatchNceLossTest, NonNegativeAndPermutationEquivariant) {
  const int64_t batch = 2, patches = 5;
  const auto q = unit_rows(batch * patches, 3), k = unit_rows(batch * patches, 3);
  const auto loss = patch_nce_loss(q, k, PatchNceOptions(batch));
  EXPECT_GE(loss.min().item<double>(), 0.0);
  // Swapping the two images permutes the per-patch losses; the mean is unchanged.
  const auto swap = torch::cat({torch::arange(patches, 2 * patches), torch::arange(0, patches)});
  const auto swapped = patch_nce_loss(q.index_select(0, swap), k.index_select(0, swap), PatchNceOptions(batch));
  EXPECT_TRUE(torch::allclose(swapped, loss.index_select(0, swap), 1e-12, 1e-12));
  // Permuting the patches of both images with the same ids also permutes the losses.
  const auto perm = torch::tensor({3, 0, 4, 1, 2, 8, 5, 9, 6, 7}, torch::kLong);
  const auto permuted = patch_nce_loss(q.index_select(0, perm), k.index_select(0, perm), PatchNceOptions(batch));
  EXPECT_TRUE(torch::allclose(permuted, loss.index_select(0, perm), 1e-12, 1e-12));
}

TEST_F(PatchNceLossTest, MultiLayerIsMeanOfLayerMeans) {
  const std::vector<torch::Tensor> qs{unit_rows(8, 3), unit_rows(8, 16), unit_rows(8, 5)};
  const std::vector<torch::Tensor> ks{unit_rows(8, 3), unit_rows(8, 16), unit_rows(8, 5)};
  const PatchNceOptions opts(2);
  double expected = 0.0;
  for (size_t l = 0; l < qs.size(); ++l) expected += patch_nce_loss(qs[l], ks[l], opts).mean().item<double>();
  expected /= 3.0;
  EXPECT_NEAR(patch_nce_multi(qs, ks, opts).item<double>(), expected, 1e-12);
  EXPECT_NEAR(PatchNceLoss{opts}(qs, ks).item<double>(), expected, 1e-12);
}

TEST_F(PatchNceLossTest, RejectsInvalidInput) {
  const auto q = unit_rows(6, 4);
  EXPECT_THAT([&] { patch_nce_loss(q, q, PatchNceOptions(4)); },
              ::testing::ThrowsMessage<c10::Error>(::testing::HasSubstr("not a multiple of batch_size")));
  EXPECT_THROW(patch_nce_loss(q, unit_rows(6, 3), PatchNceOptions(1)), c10::Error);
  EXPECT_THROW(patch_nce_loss(q, q, PatchNceOptions(0)), c10::Error);
  EXPECT_THROW(patch_nce_loss(q, q, PatchNceOptions(1).tau(0.0)), c10::Error);
  EXPECT_THROW(patch_nce_multi({q}, {}, PatchNceOptions(1)), c10::Error);
  EXPECT_THROW(patch_nce_multi({}, {}, PatchNceOptions(1)), c10::Error);
}

TEST_F(PatchNceLossTest, FloatInputsStayFloat) {
  const auto q = unit_rows(8, 4).to(torch::kFloat);
  const auto loss = patch_nce_loss(q, q, PatchNceOptions(2));
  EXPECT_EQ(loss.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::isfinite(loss).all().item<bool>());
}

}  // namespace
}  // namespace fashioncut::losses
