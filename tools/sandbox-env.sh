# shellcheck shell=bash
# Environment of a sandbox host (see docs/sandbox.md).
#
#   . tools/sandbox-env.sh        export the variables into this shell
#   tools/sandbox-env.sh          print them as `export` lines instead
#
# Inputs (all optional):
#   ZRECON_SANDBOX_POOL  pool, i.e. the simulated host      (default zones)
#   ZRECON_SANDBOX_DIR   directory holding sandbox files    (default /var/tmp/zrecon-sandbox)
#   ZRECON_TEST_IMAGE    UUID of the test image             (default below)
#   ZRECON_TEST_LX_IMAGE UUID of the lx test image          (default below)
#   ZRECON_TEST_ZVOL_IMAGE UUID of the HVM disk test image  (default below)
# Outputs: the inputs plus VMADM_SIM_POOL, VMADM_SIM_STATE, VMADM_SIM_IMAGES,
# IMGADM_SIM_DB (the host's /var/imgadm), ZRECON_IMGADM_DB (the same, for
# zrecon restore) and PATH with the host's bin directory (holding `vmadm`) in front.

ZRECON_SANDBOX_POOL=${ZRECON_SANDBOX_POOL:-zones}
ZRECON_SANDBOX_DIR=${ZRECON_SANDBOX_DIR:-/var/tmp/zrecon-sandbox}
ZRECON_TEST_IMAGE=${ZRECON_TEST_IMAGE:-7b5981c4-1889-11e7-b4c5-3f3bdfc9b88b}
ZRECON_TEST_LX_IMAGE=${ZRECON_TEST_LX_IMAGE:-a7199134-7e94-11ec-be67-db6f482136c2}
ZRECON_TEST_ZVOL_IMAGE=${ZRECON_TEST_ZVOL_IMAGE:-462d1d03-8457-e134-a408-cf9ea2b9be96}
VMADM_SIM_POOL=$ZRECON_SANDBOX_POOL
VMADM_SIM_STATE=$ZRECON_SANDBOX_DIR/$ZRECON_SANDBOX_POOL/vmadm
VMADM_SIM_IMAGES=$ZRECON_SANDBOX_DIR/images
IMGADM_SIM_DB=$ZRECON_SANDBOX_DIR/$ZRECON_SANDBOX_POOL/imgadm
# Where `zrecon restore` registers images (its --imgadm-db default).
ZRECON_IMGADM_DB=$IMGADM_SIM_DB
_zrecon_sandbox_bin=$ZRECON_SANDBOX_DIR/$ZRECON_SANDBOX_POOL/bin

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  for _v in ZRECON_SANDBOX_POOL ZRECON_SANDBOX_DIR ZRECON_TEST_IMAGE ZRECON_TEST_LX_IMAGE \
            ZRECON_TEST_ZVOL_IMAGE \
            VMADM_SIM_POOL \
            VMADM_SIM_STATE VMADM_SIM_IMAGES IMGADM_SIM_DB ZRECON_IMGADM_DB ZRECON_IMGADM_DB; do
    printf 'export %s=%q\n' "$_v" "${!_v}"
  done
  # shellcheck disable=SC2016  # $PATH is for the shell that evals this
  printf 'export PATH=%q:"$PATH"\n' "$_zrecon_sandbox_bin"
  exit 0
fi

export ZRECON_SANDBOX_POOL ZRECON_SANDBOX_DIR ZRECON_TEST_IMAGE ZRECON_TEST_LX_IMAGE \
  ZRECON_TEST_ZVOL_IMAGE VMADM_SIM_POOL \
  VMADM_SIM_STATE VMADM_SIM_IMAGES IMGADM_SIM_DB ZRECON_IMGADM_DB
# Move this host's bin to the front, so `vmadm` is this host's even when
# another host's bin is already on PATH.
PATH=":$PATH:"
PATH=${PATH//":$_zrecon_sandbox_bin:"/":"}
PATH=${PATH#:}
PATH=${PATH%:}
export PATH="$_zrecon_sandbox_bin${PATH:+:$PATH}"
unset _zrecon_sandbox_bin
