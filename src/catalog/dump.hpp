// Renders a Snapshot as a master file (RFC 1035 §5), TTLs as of `now`, exactly as the
// query engine would answer: the same records, the same late-instance rule, the same TTLs.
// Any standard server (NSD, Knot, BIND) can load the result.
#pragma once

#include <ostream>

#include "catalog/snapshot.hpp"

namespace discodns::catalog {

void dump_zone(const Snapshot& snapshot, common::Nanos now, std::ostream& out);

}  // namespace discodns::catalog
