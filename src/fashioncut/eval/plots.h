// Report images drawn with OpenCV: the confusion-matrix heat-map and the
// precision/coverage curve. Both return 8-bit RGB images.
#pragma once
#include <opencv2/core.hpp>

#include <string>
#include <vector>

namespace fashioncut::eval {

/// Heat-map of `confusion` ([true][predicted] counts), colour = share of the true row, each
/// cell labelled with its count; class names on both axes (columns written vertically).
cv::Mat draw_confusion(const std::vector<std::vector<int64_t>>& confusion, const std::vector<std::string>& classes);

/// A line chart on [0,1]x[0,1]: one polyline per series over `x` (NaN values are gaps),
/// a legend with `names`, axis captions `x_label` / "share".
cv::Mat draw_curves(const std::vector<double>& x, const std::vector<std::vector<double>>& series,
                    const std::vector<std::string>& names, const std::string& x_label, const std::string& title);

}  // namespace fashioncut::eval
