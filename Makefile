# Postdesk: the two commands of the README.
#   make run    install build dependencies, build, and run the daemon on the built-in default config
#   make test   install build + test dependencies (Postfix, swaks, ...), then run the whole test suite
export SWIFT_DETERMINISTIC_HASHING := 1
SWIFT ?= swift
CONFIG ?= conf/postdesk.yaml

.PHONY: run test build release deps test-deps lint format bench clean build-info

deps:
	bash scripts/install-system-deps.sh

test-deps: deps
	bash scripts/install-test-peers.sh

# The commit for `postdesk --version`, before every build.
build-info:
	bash scripts/build-info.sh

release: deps build-info
	$(SWIFT) build -c release --product postdesk

run: release
	mkdir -p var
	$$($(SWIFT) build -c release --show-bin-path)/postdesk serve --config $(CONFIG)

build: deps build-info
	$(SWIFT) build --build-tests

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

# The large-message test writes about half a gigabyte (spool, WAL, checkpoint): it runs on its own, after the
# rest, so that the timing tests (idle timeouts) measure Postdesk rather than a disk busy with someone else's I/O.
test: test-deps build lint
	$(SWIFT) test --skip-build --skip LargeMessageTests
	$(SWIFT) test --skip-build --filter LargeMessageTests

bench: test-deps
	bash bench/intake.sh

clean:
	rm -rf .build var
