// Registry JSON -> model (discovery-protocol.md §2, §3, §10). Every shape a registry file or
// answer can take, every quirk that applies to data; a malformed answer is an Error that
// changes nothing, never a crash. A number out of range (1e400) costs at most the instance
// that carries it. Every string in the results is valid UTF-8 without C0 control characters:
// escaped controls and unpaired surrogates ("\u0000", "\udc80") become U+FFFD.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "registry/json_document.hpp"  // kMaxDocumentSize
#include "registry/model.hpp"

namespace discodns::registry {

// Any registry document: the /discovery/fetch/all envelope or its bare data (appid -> array
// of instances), the /discovery/fetch shape (data = InstanceInfo, instances as a zone map or
// a flat array) or the /discovery/fetchs shape (appid -> InstanceInfo). A non-zero code is an
// Error naming code and message. Broken instances and addresses are skipped and counted in
// InstanceList; only a document that is not a registry document at all is an Error.
common::Result<InstanceList> decode_registry_document(std::string_view json);

// /discovery/fetch/all answer (envelope required, code 0; no data = an empty registry).
common::Result<InstanceList> decode_fetch_all(std::string_view body);
// /discovery/fetchs answer (envelope required, code 0; unknown appids are simply absent).
common::Result<InstanceList> decode_fetchs(std::string_view body);

// /discovery/polls answer: code 0 with the changed apps, or -304 (not modified, not an
// error). Other codes are returned too, not as an Error: the caller decides (e.g. -500 protect
// mode means "try another node"). An app whose latest_timestamp is not an int64 > 0 is an
// Error.
struct PollsAnswer {
  int code = 0;
  InstanceList data;
  std::map<std::string, std::int64_t> latest;  // appid -> app-level latest_timestamp
  std::vector<std::string> missing;            // the "error": {"-404": [...]} list
};
common::Result<PollsAnswer> decode_polls(std::string_view body);

// /discovery/nodes answer -> the node addresses listed ("host:port"). Its status field is not
// a health signal (discovery-protocol.md §6.5), so it is ignored.
common::Result<std::vector<std::string>> decode_nodes(std::string_view body);

}  // namespace discodns::registry
