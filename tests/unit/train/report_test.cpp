#include "fashioncut/train/report.h"

#include <gmock/gmock.h>

#include <regex>

#include "fashioncut/core/atomic_file.h"
#include "fashioncut/train/metrics_log.h"
#include "support/test_support.h"

namespace fashioncut::train {
namespace {
using ::testing::HasSubstr;
using ::testing::Not;
using nlohmann::json;

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

// Every start tag is closed in order (void elements must be self-closed "/>"); returns "" or
// the first problem.
std::string tag_balance_problem(const std::string& html) {
  std::vector<std::string> stack;
  const std::regex tag_re(R"(<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>)");
  const size_t start = html.find("<html");
  for (std::sregex_iterator it(html.begin() + std::ptrdiff_t(start), html.end(), tag_re), end; it != end; ++it) {
    const bool closing = (*it)[1] == "/", self = (*it)[3] == "/";
    const std::string name = (*it)[2];
    if (self) continue;
    if (!closing) stack.push_back(name);
    else if (stack.empty() || stack.back() != name)
      return "unexpected </" + name + "> (open: " + (stack.empty() ? "none" : stack.back()) + ")";
    else stack.pop_back();
  }
  return stack.empty() ? "" : "unclosed <" + stack.back() + ">";
}

ReportData synthetic_report() {
  ReportData d;
  d.title = "fmnist <fashion-cut> & co";
  d.config_summary = {{"method", "fashion-cut"}, {"train", {{"epochs", 3}, {"batch_size", 8}}}};
  d.class_names = {"T-shirt/top", "Trouser", "Pullover"};
  std::vector<json> records;
  for (int it = 1; it <= 1200; ++it)  // longer than the 500-point limit
    records.push_back({{"kind", "step"}, {"epoch", 1 + it / 400}, {"iter", it}, {"lr", 2e-4},
                       {"images_per_s", 100.0}, {"data_wait", 0.05},
                       {"losses", {{"G_gan", 1.0 / it}, {"nce", 2.0}, {"cls", std::nan("")}}}});
  for (int e = 1; e <= 3; ++e)
    records.push_back({{"kind", "epoch"}, {"epoch", e}, {"iter", e * 400},
                       {"eval", {{"synthetic/accuracy", 0.5 + 0.1 * e}, {"target/entropy", 1.0 / e},
                                 {"target/class_balance", 0.9}, {"target/pseudo_label_acceptance", 0.3 * e},
                                 {"oracle/accuracy", 0.4 + 0.1 * e}}},
                       {"is_best", e == 2}, {"selection_criterion", "held-out synthetic accuracy"},
                       {"selection_score", 0.7},
                       {"confusion", {{"held-out synthetic", {{5, 1, 0}, {0, 6, 0}, {2, 0, 4}}}}}});
  records.push_back({{"kind", "other"}});
  add_records(d, records);
  return d;
}

class ReportTest : public testing::SeedingFixture {};

TEST_F(ReportTest, AddRecordsSplitsByKind) {
  const ReportData d = synthetic_report();
  EXPECT_EQ(d.step_records.size(), 1200u);
  EXPECT_EQ(d.epoch_records.size(), 3u);
}

TEST_F(ReportTest, PageHasChartsLabelsAndConfusionMatrix) {
  const std::string html = render_report_html(synthetic_report());
  EXPECT_EQ(tag_balance_problem(html), "");
  EXPECT_THAT(html, HasSubstr("fmnist &lt;fashion-cut&gt; &amp; co"));  // escaped title
  EXPECT_THAT(html, Not(HasSubstr("<fashion-cut>")));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("http://cdn")));
  // One loss chart per term (3), 5 eval charts, lr/images_per_s/data_wait.
  EXPECT_EQ(count(html, "<svg"), 3u + 5u + 3u);
  EXPECT_EQ(count(html, "<svg"), count(html, "</svg>"));
  for (const char* s : {"G_gan", "nce", "cls", "held-out synthetic accuracy", "target prediction entropy",
                        "pseudo-label acceptance", "oracle (uses target labels, not used for selection)",
                        "train.epochs", "fashion-cut", "T-shirt/top", "Trouser", "Pullover",
                        "checkpoints/best = epoch 2, chosen by held-out synthetic accuracy"})
    EXPECT_THAT(html, HasSubstr(s)) << s;
  // Confusion of the latest epoch: 15 / 18 correct, shaded cells.
  // Label-free selection signals come first, the oracle last.
  EXPECT_LT(html.find("held-out synthetic accuracy"), html.find("target prediction entropy"));
  EXPECT_LT(html.find("pseudo-label acceptance"), html.find("oracle (uses target labels"));
  EXPECT_THAT(html, HasSubstr("no finite values"));  // the all-NaN "cls" term still gets its chart
  EXPECT_THAT(html, HasSubstr("held-out synthetic, epoch 3"));
  EXPECT_THAT(html, HasSubstr("accuracy 83.33% of 18"));
  EXPECT_EQ(count(html, "<table class=\"confusion\""), 1u);
  EXPECT_THAT(html, HasSubstr("background:rgba("));
}

TEST_F(ReportTest, LongCurvesAreDownsampled) {
  const std::string html = render_report_html(synthetic_report());
  // The G_gan polyline holds at most 500 points.
  const size_t chart = html.find("<title>G_gan</title>");
  ASSERT_NE(chart, std::string::npos);
  const size_t begin = html.find("points=\"", chart) + 8;
  const size_t end = html.find('"', begin);
  const std::string points = html.substr(begin, end - begin);
  EXPECT_EQ(count(points, ","), 500u);
  EXPECT_LT(html.size(), 400000u);
}

TEST_F(ReportTest, ResumedDuplicatesKeepLastRecord) {
  ReportData d;
  d.title = "r";
  add_records(d, {{{"kind", "epoch"}, {"epoch", 1}, {"eval", {{"synthetic/accuracy", 0.1}}}},
                  {{"kind", "epoch"}, {"epoch", 1}, {"eval", {{"synthetic/accuracy", 0.9}}}}});
  const std::string html = render_report_html(d);
  EXPECT_THAT(html, HasSubstr("<td>0.9</td>"));
  EXPECT_THAT(html, Not(HasSubstr("<td>0.1</td>")));
  EXPECT_THAT(html, HasSubstr("No best checkpoint recorded yet."));
}

TEST_F(ReportTest, PerOptimiserLrAndOddFieldTypesAreTolerated) {
  ReportData d;
  d.title = "r";
  add_records(d, {{{"kind", "step"}, {"iter", 1}, {"lr", {{"G", 2e-4}, {"C", 1e-3}}}, {"images_per_s", 50}},
                  {{"kind", "step"}, {"iter", 2}, {"lr", {{"G", 1e-4}, {"C", 1e-3}}}, {"images_per_s", 70}},
                  {{"kind", 3}},
                  {{"kind", "epoch"}, {"epoch", 1}, {"is_best", 1}, {"eval", "n/a"}}});
  const std::string html = render_report_html(d);
  EXPECT_EQ(tag_balance_problem(html), "");
  EXPECT_THAT(html, HasSubstr(">lr/C</text>"));  // legend of a two-series chart
  EXPECT_THAT(html, HasSubstr(">lr/G</text>"));
  EXPECT_THAT(html, HasSubstr("mean images_per_s = 60"));
  EXPECT_THAT(html, HasSubstr("No best checkpoint recorded yet."));  // is_best must be a bool
}

TEST_F(ReportTest, OracleSelectionIsStatedExplicitly) {
  ReportData d;
  d.title = "r";
  add_records(d, {{{"kind", "epoch"}, {"epoch", 1}, {"eval", {{"oracle/accuracy", 0.8}}}, {"is_best", true},
                   {"selection_criterion", "oracle/accuracy (--select oracle)"}}});
  const std::string html = render_report_html(d);
  EXPECT_THAT(html, HasSubstr("USED for selection"));
  EXPECT_THAT(html, Not(HasSubstr("not used for selection")));
}

TEST_F(ReportTest, ExplicitConfusionAndMissingClassNames) {
  ReportData d;
  d.title = "r";
  d.class_names = {"a"};
  d.confusion = {{1, 0}, {0, 0}};
  d.confusion_title = "oracle set";
  d.best_note = "best: epoch 7 by entropy";
  const std::string html = render_report_html(d);
  EXPECT_EQ(tag_balance_problem(html), "");
  EXPECT_THAT(html, HasSubstr("oracle set"));
  EXPECT_THAT(html, HasSubstr("<th>1</th>"));  // class 1 has no name: shown as its index
  EXPECT_THAT(html, HasSubstr("best: epoch 7 by entropy"));
  EXPECT_EQ(count(html, "<svg"), 0u);
}

TEST_F(ReportTest, WriteReportFromMetricsFileFindsSamples) {
  const auto run = scratch() / "run";
  {
    MetricsLog log(run / "metrics.jsonl");
    for (const auto& r : synthetic_report().epoch_records) log.log(r);
  }
  for (const char* name : {"epoch_001.png", "epoch_002.png", "epoch_003.png", "epoch_004.png"})
    write_file_atomic(run / "samples" / name, "png");
  ReportData d;
  d.title = "run";
  add_records(d, read_metrics(run / "metrics.jsonl"));
  const auto path = write_report(run, d);
  EXPECT_EQ(path, run / "report.html");
  const std::string html = read_file(path);
  EXPECT_THAT(html, HasSubstr("<img src=\"samples/epoch_004.png\""));
  EXPECT_THAT(html, HasSubstr("samples/epoch_002.png"));
  EXPECT_THAT(html, Not(HasSubstr("samples/epoch_001.png")));  // only the 3 newest
  EXPECT_LT(html.find("epoch_004.png"), html.find("epoch_003.png"));

  // Strict check: the page (after the doctype) is well-formed XML.
  const auto strict = testing::run_command(std::string(FASHIONCUT_PYTHON) + " -c " + testing::shell_quote(
      "import sys, xml.etree.ElementTree as ET\n"
      "t = open(sys.argv[1], encoding='utf-8').read()\n"
      "root = ET.fromstring(t[t.index('<html'):])\n"
      "print('svg', sum(1 for e in root.iter() if e.tag.endswith('svg')))\n") + " " +
      testing::shell_quote(path.string()));
  ASSERT_EQ(strict.exit_code, 0) << strict.output;
  EXPECT_THAT(strict.output, HasSubstr("svg 5"));
}

}  // namespace
}  // namespace fashioncut::train
