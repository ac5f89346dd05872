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
  // SOA first, as master files and AXFR expect; then names in a stable order.
  std::vector<std::uint32_t> order(snap.nodes.size());
  for (std::uint32_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    if (a == snap.apex_node || b == snap.apex_node) return a == snap.apex_node && b != a;
    return wire::wire_to_text(snap.names[a]) < wire::wire_to_text(snap.names[b]);
  });
  for (std::uint32_t index : order) {
    const Node& node = snap.nodes[index];
    for (std::uint32_t s = 0; s < node.rrset_count; ++s) {
      const RRset& set = snap.rrsets[node.first_rrset + s];
      Snapshot::RRsetView view = snap.view(set, node, now);
      for (std::uint32_t r = 0; r < set.record_count; ++r) {
        const Record& rec = snap.records[set.first_record + r];
        if (!snap.included(rec, view)) continue;
        out << render(snap.names[index], set.type, view.ttl, snap.rdata_of(rec));
      }
    }
  }
}

}  // namespace discodns::catalog
