#ifndef ZRECON_APPLY_STALE_H_
#define ZRECON_APPLY_STALE_H_

#include "reconciler/catalog/catalog.h"
#include "reconciler/host/host.h"
#include "reconciler/inventory/inventory.h"
#include "reconciler/plan/plan.h"
#include "reconciler/util/status.h"

namespace zrecon {

// A saved plan is only valid for the host state it was made from. Given the
// host and the plan's destinations read again now, refuses the plan when
// their fingerprint (plan/fingerprint.h) is not the plan's, saying that
// nothing was changed and to plan again.
Status CheckNotStale(const Plan& plan, const Inventory& inventory, const Catalogs& catalogs);

// Applying a saved plan: reads the host again through `host` as the plan
// was made (its own zfs, vmadm and dialect: host/observe.h), and the
// catalog of every destination the plan declares (ReadDirectoryCatalog),
// then CheckNotStale. On success *catalogs holds what was read: the
// destinations apply writes to start from it. A read that fails is named
// ("destination usb: ..."); *catalogs is unchanged on any failure.
Status ReadAgainAndCheck(const Plan& plan, Host& host, Catalogs* catalogs);

}  // namespace zrecon

#endif  // ZRECON_APPLY_STALE_H_
