# GridRig. `make run` and `make test` install what is missing first.
SWIFT ?= swift
RIG ?= Rigs/neighborhood.yaml
RUN_ARGS ?= --baseline
APT_PACKAGES := libmodbus-dev libzmq3-dev mbpoll pkg-config
PIP_PACKAGES := pymodbus pysunspec2 pyzmq
COSIM_PIP_PACKAGES := helics pandapower

.PHONY: deps helics build test run bench clean check-report check-certificate conformance

deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; fi
	@python3 -c "import pymodbus, sunspec2, zmq" 2>/dev/null || python3 -m pip install -q $(PIP_PACKAGES)
	@$(MAKE) --no-print-directory helics

# HELICS from PyPI (docs/COSIM.md): the wheel bundles libhelics, its C header and the broker, with a pkg-config file
# whose prefix is wrong. We write a correct one, and link the library from a folder of its own on the loader's path
# (not the wheel's folder: that holds a second libzmq the loader would then prefer to the system's).
# GRIDRIG_HELICS=0 skips it; everything but co-simulation builds and runs without it.
HELICS_LIB ?= /usr/local/lib/gridrig-helics
helics:
	@if [ "$${GRIDRIG_HELICS:-1}" = 0 ]; then echo "HELICS skipped (GRIDRIG_HELICS=0)"; exit 0; fi; \
	python3 -c "import helics, pandapower" 2>/dev/null || python3 -m pip install -q $(COSIM_PIP_PACKAGES) || exit 1; \
	prefix=$$(python3 -c "import helics, os; print(os.path.join(os.path.dirname(helics.__file__), 'install'))"); \
	version=$$(python3 -c "import importlib.metadata as m; print(m.version('helics'))"); \
	test -f "$$prefix/include/helics/helics.h" || { echo "the helics wheel has no C header at $$prefix/include"; exit 1; }; \
	SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	$$SUDO mkdir -p $(HELICS_LIB) /usr/local/lib/pkgconfig && \
	$$SUDO ln -sf "$$prefix/lib64/libhelics.so.$$version" $(HELICS_LIB)/libhelics.so.3 && \
	$$SUDO ln -sf libhelics.so.3 $(HELICS_LIB)/libhelics.so && \
	printf 'prefix=%s\nlibdir=%s\nincludedir=%s/include\n\nName: helics\nDescription: HELICS C shared library (from the helics wheel)\nVersion: %s\nLibs: -L$${libdir} -lhelics\nCflags: -I$${includedir}\n' \
	  "$$prefix" "$(HELICS_LIB)" "$$prefix" "$$version" | $$SUDO tee /usr/local/lib/pkgconfig/helics.pc > /dev/null && \
	echo "$(HELICS_LIB)" | $$SUDO tee /etc/ld.so.conf.d/gridrig-helics.conf > /dev/null && $$SUDO ldconfig

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
	$(SWIFT) run --skip-build gridrig certify --role market --cases normal-day --out $(CERT_DIR) --command python3 examples/python/market.py > /dev/null
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1000,1400 \
	  --screenshot=$(CERT_DIR)/certificate.png file://$(CURDIR)/$(CERT_DIR)/certificate.html 2> /dev/null
	python3 .ci/check_screenshot.py $(CERT_DIR)/certificate.png $(CERT_DIR)/certificate.html certificate

# The conformance kit's full self-test (docs/CONFORMANCE.md): every broken controller on every case of its role,
# the examples and the reference controller over 5 seeds. `make test` runs a subset.
conformance: build
	$(SWIFT) build --build-tests
	GRIDRIG_KIT=full $(SWIFT) test --skip-build --filter ConformanceKitTests

bench: deps
	cd Benchmarks && $(MAKE)

clean:
	rm -rf .build Benchmarks/.build
