#include "fashioncut/synth/synth_options.h"

#include <cctype>
#include <set>
#include <sstream>

#include "fashioncut/core/errors.h"
#include "fashioncut/synth/garment.h"
#include "fashioncut/synth/material.h"

namespace fashioncut::synth {
namespace {

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

void check_range(const char* key, double v, double lo, double hi) {
  if (!(v >= lo && v <= hi)) {
    std::ostringstream msg;
    msg << "synth option '" << key << "' = " << v << " is out of range [" << lo << ", " << hi << "]";
    throw ConfigError(msg.str());
  }
}

void check_pair(const char* lo_key, double lo, const char* hi_key, double hi) {
  if (lo > hi)
    throw ConfigError(std::string("synth option '") + lo_key + "' must be <= '" + hi_key + "'");
}

void check_names(const char* key, const std::vector<std::string>& names, const std::vector<std::string>& allowed) {
  std::set<std::string> seen;
  for (const auto& n : names) {
    if (std::find(allowed.begin(), allowed.end(), n) == allowed.end())
      throw ConfigError(std::string("synth option '") + key + "': unknown name '" + n + "' (known: " + join(allowed) +
                        ")");
    if (!seen.insert(n).second)
      throw ConfigError(std::string("synth option '") + key + "': '" + n + "' is listed twice");
  }
}

std::string toml_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string toml_value(const nlohmann::json& v) {
  if (v.is_string()) return toml_string(v.get<std::string>());
  if (v.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + toml_value(v[i]);
    return out + "]";
  }
  if (v.is_number_float()) {
    std::ostringstream s;
    s << v.get<double>();
    std::string t = s.str();
    if (t.find_first_of(".eE") == std::string::npos && t.find("inf") == std::string::npos) t += ".0";
    return t;
  }
  return v.dump();
}

// ---- a small flat-TOML reader: key = value lines, '#' comments ----
struct TomlCursor {
  const std::string& text;
  size_t pos;
  const std::string& source;
  int line;
  [[noreturn]] void fail(const std::string& why) const {
    throw ConfigError(source + ":" + std::to_string(line) + ": " + why);
  }
  void skip_space() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
  }
  nlohmann::json value() {
    skip_space();
    if (pos >= text.size()) fail("missing value");
    const char c = text[pos];
    if (c == '"' || c == '\'') {
      ++pos;
      std::string s;
      while (pos < text.size() && text[pos] != c && text[pos] != '\n') {
        if (c == '"' && text[pos] == '\\' && pos + 1 < text.size()) ++pos;
        s += text[pos++];
      }
      if (pos >= text.size() || text[pos] != c) fail("unterminated string");
      ++pos;
      return s;
    }
    if (c == '[') {
      ++pos;
      nlohmann::json arr = nlohmann::json::array();
      for (;;) {
        while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) {
          if (text[pos] == '\n') ++line;
          ++pos;
        }
        if (pos < text.size() && text[pos] == ']') { ++pos; return arr; }
        arr.push_back(value());
        while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) {
          if (text[pos] == '\n') ++line;
          ++pos;
        }
        if (pos < text.size() && text[pos] == ',') { ++pos; continue; }
        if (pos < text.size() && text[pos] == ']') { ++pos; return arr; }
        fail("malformed array");
      }
    }
    size_t end = pos;
    while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end])) && text[end] != '#' &&
           text[end] != ',' && text[end] != ']')
      ++end;
    const std::string tok = text.substr(pos, end - pos);
    pos = end;
    if (tok == "true") return true;
    if (tok == "false") return false;
    try {
      size_t used = 0;
      if (tok.find_first_of(".eE") == std::string::npos) {
        const long long v = std::stoll(tok, &used);
        if (used == tok.size()) return v;
      } else {
        const double v = std::stod(tok, &used);
        if (used == tok.size()) return v;
      }
    } catch (const std::exception&) {
    }
    fail("cannot read value '" + tok + "'");
  }
};

}  // namespace

SynthOptions SynthOptions::preset_options(const std::string& name) {
  SynthOptions o;
  if (name == "catalog") return o;
  if (name != "fmnist")
    throw ConfigError("unknown synth preset '" + name + "' (known: catalog, fmnist)");
  // Fashion-MNIST look: the product, trimmed and scaled so its longest side fills the
  // 28 px frame, centred, flat-lit, in gray on black; no background, shadow or camera tilt.
  o.preset = "fmnist";
  o.size = 28;
  o.channels = 1;
  o.label = "garment";
  o.supersample = 3;
  o.scale_min = 0.96;
  o.scale_max = 1.0;
  o.rotation_deg = 0.0;
  o.perspective = 0.0;
  o.offset = 0.0;
  o.mirror_prob = 0.0;  // Zalando shots: shoes face left; shapes are symmetric otherwise
  o.fold_strength = 0.6;
  o.texture_warp = 0.6;
  o.seam_strength = 1.0;
  o.print_prob = 0.2;
  o.texture_scale_min = 0.9;
  o.texture_scale_max = 1.8;
  o.exposure_min = 0.9;
  o.exposure_max = 1.3;
  o.dark_garment_prob = 0.1;
  o.gamma = 1.7;
  o.plain_prob = 0.5;  // most Fashion-MNIST products are plain, with some prints and patterns  // Fashion-MNIST's gray levels are lifted: garments average ~160 on black
  o.ambient_min = 0.75;
  o.ambient_max = 0.95;
  o.light_min = 0.1;
  o.light_max = 0.3;
  o.elevation_min_deg = 60;
  o.color_temp_min = 6500;
  o.color_temp_max = 6500;
  o.shadow_prob = 0.0;
  o.rim_light = 0.35;
  o.background_kinds = {"black"};
  o.blur_prob = 0.3;
  o.blur_sigma_max = 0.6;
  o.noise_prob = 0.0;
  o.jpeg_prob = 0.0;
  return o;
}

void SynthOptions::validate() const {
  preset_options(preset);  // throws on unknown preset
  check_range("size", size, 16, 2048);
  if (channels != 1 && channels != 3) throw ConfigError("synth option 'channels' must be 1 or 3, got " + std::to_string(channels));
  if (label != "pattern" && label != "garment")
    throw ConfigError("synth option 'label' must be 'pattern' or 'garment', got '" + label + "'");
  const auto materials = MaterialRegistry::global().names();
  const auto all_garments = garment_names();
  check_names("classes", classes, label == "pattern" ? materials : all_garments);
  check_names("garments", garments, all_garments);
  check_names("patterns", patterns, materials);
  check_range("supersample", supersample, 1, 4);
  check_range("plain_prob", plain_prob, 0, 1);
  check_range("scale_min", scale_min, 0.05, 1.5);
  check_range("scale_max", scale_max, 0.05, 1.5);
  check_pair("scale_min", scale_min, "scale_max", scale_max);
  check_range("rotation_deg", rotation_deg, 0, 180);
  check_range("perspective", perspective, 0, 0.3);
  check_range("offset", offset, 0, 0.5);
  check_range("mirror_prob", mirror_prob, 0, 1);
  check_range("fold_strength", fold_strength, 0, 10);
  check_range("texture_warp", texture_warp, 0, 10);
  check_range("seam_strength", seam_strength, 0, 1);
  check_range("print_prob", print_prob, 0, 1);
  check_range("texture_scale_min", texture_scale_min, 0.1, 10);
  check_range("texture_scale_max", texture_scale_max, 0.1, 10);
  check_pair("texture_scale_min", texture_scale_min, "texture_scale_max", texture_scale_max);
  check_range("exposure_min", exposure_min, 0, 4);
  check_range("exposure_max", exposure_max, 0, 4);
  check_pair("exposure_min", exposure_min, "exposure_max", exposure_max);
  check_range("dark_garment_prob", dark_garment_prob, 0, 1);
  check_range("gamma", gamma, 0.2, 5);
  check_range("ambient_min", ambient_min, 0, 2);
  check_range("ambient_max", ambient_max, 0, 2);
  check_pair("ambient_min", ambient_min, "ambient_max", ambient_max);
  check_range("light_min", light_min, 0, 2);
  check_range("light_max", light_max, 0, 2);
  check_pair("light_min", light_min, "light_max", light_max);
  check_range("elevation_min_deg", elevation_min_deg, 0, 90);
  check_range("elevation_max_deg", elevation_max_deg, 0, 90);
  check_pair("elevation_min_deg", elevation_min_deg, "elevation_max_deg", elevation_max_deg);
  check_range("color_temp_min", color_temp_min, 1500, 15000);
  check_range("color_temp_max", color_temp_max, 1500, 15000);
  check_pair("color_temp_min", color_temp_min, "color_temp_max", color_temp_max);
  check_range("shadow_prob", shadow_prob, 0, 1);
  check_range("rim_light", rim_light, 0, 2);
  if (background_kinds.empty() && backgrounds_dir.empty())
    throw ConfigError("synth option 'background_kinds' is empty; list at least one of solid, gradient, noise, photo, black");
  check_names("background_kinds", background_kinds, {"solid", "gradient", "noise", "photo", "black"});
  if (std::find(background_kinds.begin(), background_kinds.end(), "photo") != background_kinds.end() &&
      backgrounds_dir.empty())
    throw ConfigError("synth option 'background_kinds' lists 'photo' but 'backgrounds_dir' is not set");
  check_range("blur_prob", blur_prob, 0, 1);
  check_range("blur_sigma_max", blur_sigma_max, 0, 20);
  check_range("noise_prob", noise_prob, 0, 1);
  check_range("noise_sigma_max", noise_sigma_max, 0, 100);
  check_range("jpeg_prob", jpeg_prob, 0, 1);
  check_range("jpeg_quality_min", jpeg_quality_min, 1, 95);
}

nlohmann::json SynthOptions::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  for_each_field(*this, [&](const char* name, const auto& field, const char*) { j[name] = field; });
  return j;
}

SynthOptions SynthOptions::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw ConfigError("synth options must be a JSON object");
  std::string preset = "catalog";
  if (j.contains("preset")) {
    if (!j["preset"].is_string()) throw ConfigError("synth option 'preset' must be a string");
    preset = j["preset"].get<std::string>();
  }
  SynthOptions o = preset_options(preset);
  size_t used = 0;
  for_each_field(o, [&](const char* name, auto& field, const char*) {
    if (!j.contains(name)) return;
    ++used;
    using T = std::decay_t<decltype(field)>;
    const auto& v = j[name];
    const bool ok = std::is_same_v<T, std::string>                ? v.is_string()
                    : std::is_same_v<T, std::vector<std::string>> ? v.is_array()
                    : std::is_floating_point_v<T>                 ? v.is_number()
                    : std::is_same_v<T, uint64_t>                 ? v.is_number_unsigned() || v.is_number_integer()
                                                                  : v.is_number_integer();
    if (!ok) throw ConfigError(std::string("synth option '") + name + "' has the wrong type (got " + v.dump() + ")");
    if constexpr (std::is_same_v<T, uint64_t>) {
      if (v.is_number_integer() && v.get<int64_t>() < 0)
        throw ConfigError(std::string("synth option '") + name + "' must be >= 0");
    }
    try {
      field = v.get<T>();
    } catch (const nlohmann::json::exception&) {
      throw ConfigError(std::string("synth option '") + name + "' has the wrong type (got " + v.dump() + ")");
    }
  });
  if (used != j.size()) {
    const auto known = SynthOptions{}.to_json();
    for (const auto& item : j.items())
      if (!known.contains(item.key())) throw ConfigError("unknown synth option '" + item.key() + "'");
  }
  return o;
}

std::string SynthOptions::to_toml() const {
  const nlohmann::json j = to_json();
  std::ostringstream out;
  out << "# fashioncut synth configuration (preset '" << preset << "'). Keys override the preset.\n";
  for_each_field(*this, [&](const char* name, const auto&, const char* doc) {
    out << "# " << doc << "\n" << name << " = " << toml_value(j[name]) << "\n";
  });
  return out.str();
}

SynthOptions SynthOptions::from_toml(const std::string& text, const std::string& source,
                                     const std::vector<std::string>& ignore) {
  nlohmann::json j = nlohmann::json::object();
  TomlCursor cur{text, 0, source, 1};
  while (cur.pos < text.size()) {
    cur.skip_space();
    if (cur.pos >= text.size()) break;
    char c = text[cur.pos];
    if (c == '\n' || c == '\r') { if (c == '\n') ++cur.line; ++cur.pos; continue; }
    if (c == '#') { while (cur.pos < text.size() && text[cur.pos] != '\n') ++cur.pos; continue; }
    if (c == '[') cur.fail("tables are not used in synth configs; write flat 'key = value' lines");
    size_t eq = text.find('=', cur.pos);
    const size_t nl = text.find('\n', cur.pos);
    if (eq == std::string::npos || (nl != std::string::npos && eq > nl)) cur.fail("expected 'key = value'");
    std::string key = text.substr(cur.pos, eq - cur.pos);
    while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();
    if (key.size() >= 2 && (key.front() == '"' || key.front() == '\'')) key = key.substr(1, key.size() - 2);
    cur.pos = eq + 1;
    nlohmann::json v = cur.value();
    cur.skip_space();
    if (cur.pos < text.size() && text[cur.pos] == '#')
      while (cur.pos < text.size() && text[cur.pos] != '\n') ++cur.pos;
    if (cur.pos < text.size() && text[cur.pos] != '\n' && text[cur.pos] != '\r') cur.fail("unexpected text after value");
    if (std::find(ignore.begin(), ignore.end(), key) != ignore.end()) continue;
    if (j.contains(key)) cur.fail("key '" + key + "' given twice");
    j[key] = v;
  }
  try {
    return from_json(j);
  } catch (const ConfigError& e) {
    throw ConfigError(source + ": " + e.what());
  }
}

}  // namespace fashioncut::synth
