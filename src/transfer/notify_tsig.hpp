// The Notifier's TSIG hooks over tsig.hpp: each NOTIFY signed with the key, its MAC kept by
// message id so that the secondary's answer is verified against the request it answers.
#pragma once

#include "common/clock.hpp"
#include "transfer/notifier.hpp"
#include "transfer/tsig.hpp"

namespace discodns::transfer {

NotifyTsig notify_tsig(TsigKey key, const common::Clock& clock);

}  // namespace discodns::transfer
