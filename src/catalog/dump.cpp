#include "catalog/dump.hpp"

#include <algorithm>
#include <vector>

#include "wire/bytes.hpp"
#include "wire/name.hpp"
#include "wire/types.hpp"

// Last: ldns's headers define macros (bool/false) that break later standard headers.
#include <ldns/ldns.h>

namespace discodns::catalog {
namespace {

// One record rendered by ldns from the wire form we would send.
std::string render(const std::string& owner, std::uint16_t type, std::uint32_t ttl,
                   std::span<const std::uint8_t> rdata) {
  std::vector<std::uint8_t> wire(owner.begin(), owner.end());
  std::size_t fixed = wire.size();
  wire.resize(fixed + 10);
  wire::put_u16(&wire[fixed], type);
  wire::put_u16(&wire[fixed + 2], wire::klass::kIn);
  wire::put_u32(&wire[fixed + 4], ttl);
  wire::put_u16(&wire[fixed + 8], static_cast<std::uint16_t>(rdata.size()));
  wire.insert(wire.end(), rdata.begin(), rdata.end());
  ldns_rr* rr = nullptr;
  std::size_t pos = 0;
  if (ldns_wire2rr(&rr, wire.data(), wire.size(), &pos, LDNS_SECTION_ANSWER) != LDNS_STATUS_OK) {
    return "; unrenderable record at " + wire::wire_to_text(owner) + "\n";
  }
  char* text = ldns_rr2str(rr);
  std::string out(text);
  free(text);
  ldns_rr_free(rr);
  return out;
}

}  // namespace

void dump_zone(const Snapshot& snap, common::Nanos now, std::ostream& out) {
  out << "; discodns zone " << wire::wire_to_text(snap.apex) << " serial " << snap.serial << "\n";
  // The apex (SOA first, as master files expect), then every name in a stable order.
  std::vector<std::pair<std::string, std::pair<const Block*, std::uint32_t>>> names;
  auto add_block = [&](const Block& block) {
    for (std::uint32_t i = 0; i < block.nodes.size(); ++i) {
      names.push_back({wire::wire_to_text(block.name(i)), {&block, i}});
    }
  };
  add_block(*snap.zone);
  snap.services.for_each(
      [&](const std::string&, const ServiceEntry& entry) { add_block(*entry.block); });
  std::string apex = wire::wire_to_text(snap.apex);
  std::sort(names.begin(), names.end(), [&](const auto& a, const auto& b) {
    if ((a.first == apex) != (b.first == apex)) return a.first == apex;
    return a.first < b.first;
  });
  for (const auto& [text, where] : names) {
    const Block& block = *where.first;
    const Node& node = block.nodes[where.second];
    for (std::uint32_t s = 0; s < node.rrset_count; ++s) {
      const RRset& set = block.rrsets[node.first_rrset + s];
      Snapshot::RRsetView view = snap.view(block, set, now);
      for (std::uint32_t r = 0; r < set.record_count; ++r) {
        if (!snap.included(view, r)) continue;
        const Record& rec = block.records[set.first_record + r];
        auto stored = block.rdata_of(rec);
        std::string_view target = block.target_name(set, rec);
        std::vector<std::uint8_t> rdata(stored.begin(), stored.end());
        rdata.insert(rdata.end(), target.begin(), target.end());
        out << render(std::string(block.name(where.second)), set.type, view.ttl, rdata);
      }
    }
  }
}

}  // namespace discodns::catalog
