# The make fragment of the Moddable build (x-cli-lin) of the simulator host,
# named by hosts/sim/manifest.json: the SDK's own rules for x-cli-lin, then what
# the host and its bindings add (mbedTLS from Debian).
include $(MODDABLE)/tools/mcconfig/make.x-cli-lin.mk

LIBRARIES += -lmbedtls -lmbedx509 -lmbedcrypto
