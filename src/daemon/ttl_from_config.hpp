// [ttl] as the catalog's TtlPolicy: the one place config's durations become the plain values
// the TTL rules take, so catalog/ and query/ never see config/.
#pragma once

#include "catalog/ttl_policy.hpp"
#include "config/config.hpp"

namespace discodns::daemon {

catalog::TtlPolicy ttl_policy_from(const config::TtlConfig& ttl);

}  // namespace discodns::daemon
