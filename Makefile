# GridRig. `make run` and `make test` install what is missing first.
SWIFT ?= swift
RIG ?= Rigs/neighborhood.yaml
RUN_ARGS ?= --baseline
APT_PACKAGES := libmodbus-dev libzmq3-dev mbpoll pkg-config
PIP_PACKAGES := pymodbus pysunspec2 pyzmq

.PHONY: deps build test run bench clean check-report check-certificate conformance

deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; fi
	@python3 -c "import pymodbus, sunspec2, zmq" 2>/dev/null || python3 -m pip install -q $(PIP_PACKAGES)

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
