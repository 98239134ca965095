# GridRig. `make run` and `make test` install what is missing first.
SWIFT ?= swift
RIG ?= Rigs/neighborhood.yaml
RUN_ARGS ?= --baseline
APT_PACKAGES := libmodbus-dev libzmq3-dev mbpoll pkg-config patchelf iproute2
PIP_PACKAGES := pymodbus pysunspec2 pyzmq "py20305[sunspec]==0.16.1"
COSIM_PIP_PACKAGES := helics pandapower

.PHONY: deps helics build test run bench clean check-report check-certificate conformance

deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; fi
	@python3 -c "import pymodbus, sunspec2, zmq, py20305.connectors.sunspec" 2>/dev/null || python3 -m pip install -q $(PIP_PACKAGES)
	@$(MAKE) --no-print-directory helics

# HELICS from PyPI (docs/COSIM.md): the wheel bundles libhelics, its C header and the broker, with a pkg-config file
# whose prefix is wrong. We write a correct one and put the library in a folder of its own on the loader's path.
# The wheel's libhelics takes a newer libstdc++'s symbols from the libzmq bundled beside it, which lacks CURVE: so
# that GridRig's bus keeps the system's libzmq, that copy is renamed libzmq-helics and libhelics is pointed at it.
# GRIDRIG_HELICS=0 skips it all; everything but co-simulation builds and runs without HELICS.
HELICS_LIB ?= /usr/local/lib/gridrig-helics
helics:
	@if [ "$${GRIDRIG_HELICS:-1}" = 0 ]; then echo "HELICS skipped (GRIDRIG_HELICS=0)"; exit 0; fi; \
	python3 -c "import helics, pandapower" 2>/dev/null || python3 -m pip install -q $(COSIM_PIP_PACKAGES) || exit 1; \
	prefix=$$(python3 -c "import helics, os; print(os.path.join(os.path.dirname(helics.__file__), 'install'))"); \
	version=$$(python3 -c "import importlib.metadata as m; print(m.version('helics'))"); \
	test -f "$$prefix/include/helics/helics.h" || { echo "the helics wheel has no C header at $$prefix/include"; exit 1; }; \
	if [ -f $(HELICS_LIB)/libhelics.so.3 ] && grep -qx "Version: $$version" /usr/local/lib/pkgconfig/helics.pc 2>/dev/null \
	  && grep -qx "prefix=$$prefix" /usr/local/lib/pkgconfig/helics.pc; then exit 0; fi; \
	SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); set -e; \
	$$SUDO mkdir -p $(HELICS_LIB) /usr/local/lib/pkgconfig; \
	$$SUDO cp "$$prefix/lib64/libzmq.so.5" $(HELICS_LIB)/libzmq-helics.so.5; \
	$$SUDO patchelf --set-soname libzmq-helics.so.5 $(HELICS_LIB)/libzmq-helics.so.5; \
	$$SUDO cp "$$prefix/lib64/libhelics.so.$$version" $(HELICS_LIB)/libhelics.so.3; \
	$$SUDO patchelf --replace-needed libzmq.so.5 libzmq-helics.so.5 --set-rpath '$$ORIGIN' $(HELICS_LIB)/libhelics.so.3; \
	$$SUDO ln -sf libhelics.so.3 $(HELICS_LIB)/libhelics.so; \
	printf 'prefix=%s\nlibdir=%s\nincludedir=%s/include\n\nName: helics\nDescription: HELICS C shared library (from the helics wheel)\nVersion: %s\nLibs: -L$${libdir} -lhelics\nCflags: -I$${includedir}\n' \
	  "$$prefix" "$(HELICS_LIB)" "$$prefix" "$$version" | $$SUDO tee /usr/local/lib/pkgconfig/helics.pc > /dev/null; \
	echo "$(HELICS_LIB)" | $$SUDO tee /etc/ld.so.conf.d/gridrig-helics.conf > /dev/null; \
	$$SUDO ldconfig; echo "HELICS $$version installed: /usr/local/lib/pkgconfig/helics.pc, $(HELICS_LIB)"

build: deps
	$(SWIFT) build

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# Runs the default rig against the reference controller; prints the verdict and where the report is.
run: build
	$(SWIFT) run --skip-build gridrig run $(RIG) $(RUN_ARGS)

# Renders a short run's HTML report in headless Chromium (Debian's) and checks the screenshot is a real page.
REPORT_DIR ?= runs/check-report
check-report: build
	@command -v chromium >/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }
	$(SWIFT) run --skip-build gridrig run $(RIG) --hours 12 --out $(REPORT_DIR) > /dev/null
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1000,3200 \
	  --screenshot=$(REPORT_DIR)/report.png file://$(CURDIR)/$(REPORT_DIR)/report.html 2> /dev/null
	python3 .ci/check_screenshot.py $(REPORT_DIR)/report.png $(REPORT_DIR)/report.html

# Renders a certificate (the Python market on one case) in headless Chromium and checks the screenshot.
CERT_DIR ?= runs/check-certificate
check-certificate: build
	@command -v chromium >/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }
	$(SWIFT) run --skip-build gridrig certify --role market --cases normal-day --out $(CERT_DIR) -- python3 examples/python/market.py > /dev/null
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1000,1400 \
	  --screenshot=$(CERT_DIR)/certificate.png file://$(CURDIR)/$(CERT_DIR)/certificate.html 2> /dev/null
	python3 .ci/check_screenshot.py $(CERT_DIR)/certificate.png $(CERT_DIR)/certificate.html certificate

# The conformance kit's full self-test (docs/CONFORMANCE.md): every broken controller on every case of its role,
# the examples and the reference controller over 5 seeds. `make test` runs a subset.
conformance: build
	$(SWIFT) build --build-tests
	GRIDRIG_KIT=full $(SWIFT) test --skip-build --filter ConformanceKit

bench: deps
	cd Benchmarks && $(MAKE)

clean:
	rm -rf .build Benchmarks/.build
