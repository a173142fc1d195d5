// Precompiled header shared by every target (see CMakeLists.txt). Listing a header
// here costs nothing in files that do not use it, and saves ~20 s per torch TU. Not CLI11:
// it makes every TU that sees it compile ~4 s of code (measured with -ftime-report), so only
// the files that parse options include it.
#pragma once
#include <torch/torch.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/imgcodecs.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>
