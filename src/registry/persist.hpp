// Warm start: the last good registry data of a source, kept in a file in the
// /discovery/fetch/all shape (so the same decoder reads it back, and a person can read it).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "registry/model.hpp"

namespace discodns::registry {

// The data as a /discovery/fetch/all answer: {"code":0,"message":"0","ttl":1,"data":{...}}.
std::string encode_fetch_all(const RegistryData& data);

// Writes atomically: a temporary file in the same directory, fsync, then rename, so a crash
// leaves either the old file or the new one, never a torn one.
common::Result<bool> save_registry(const std::filesystem::path& file, const RegistryData& data);

// What save_registry does with any text.
common::Result<bool> write_atomically(const std::filesystem::path& file, std::string_view text);

// Reads a file written by save_registry (or any registry snapshot file).
common::Result<RegistryData> load_registry(const std::filesystem::path& file);

}  // namespace discodns::registry
