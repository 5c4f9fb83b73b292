# Pins Perl's clock for a program loaded after it: time() returns
# $ENV{PINNED_CLOCK_EPOCH}, and localtime() without an argument reads that
# time. bench/sanoid_compare.sh runs sanoid as
#   PINNED_CLOCK_EPOCH=<zrecon's --now> perl -MPinnedClock /usr/sbin/sanoid ...
# so that sanoid decides at the same instant as `zrecon plan --now`, on a
# synthetic host whose timeline ends at that instant. Overrides made here
# apply to code compiled later (sanoid, Time::Local), not to code already
# compiled.
package PinnedClock;

use strict;
use warnings;

my $now = $ENV{PINNED_CLOCK_EPOCH};
die "PinnedClock: PINNED_CLOCK_EPOCH must be epoch seconds, got '" . ($now // '') . "'\n"
  unless defined $now && $now =~ /^[0-9]+$/;

BEGIN {
  no warnings 'once';
  *CORE::GLOBAL::time = sub () { $now };
  *CORE::GLOBAL::localtime = sub (;$) { CORE::localtime(@_ ? $_[0] : $now) };
}

1;
