# GridRig. `make run` and `make test` install what is missing first.
SWIFT ?= swift
RIG ?= Rigs/neighborhood.yaml
RUN_ARGS ?=
APT_PACKAGES := libmodbus-dev libzmq3-dev mbpoll pkg-config
PIP_PACKAGES := pymodbus pysunspec2 pyzmq

.PHONY: deps build test run bench clean

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

bench: deps
	cd Benchmarks && $(MAKE)

clean:
	rm -rf .build Benchmarks/.build
