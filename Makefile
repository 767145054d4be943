# Thin wrapper for the README's two commands; the build itself is CMake.
BUILD ?= build
DEPS = build-essential cmake pkg-config libpcap-dev libndpi-dev libyaml-dev libjansson-dev \
       libcmocka-dev libgcrypt20-dev libssl-dev libsystemd-dev libndpi-bin python3 python3-jsonschema tzdata \
       ieee-data
# What the tests add: real DICOM peers (dcmtk), a real rsyslog with TLS, namespaces, capture
# and replay, nftables for the block list hook, tshark for the cases' facts, PyYAML to read
# proposed configs with another parser than ours, headless chromium driven by Selenium (and a
# Japanese font) to render the report. make fuzz adds the fuzzing compiler.
TEST_DEPS = dcmtk iproute2 tcpdump ethtool rsyslog rsyslog-gnutls openssl tcpreplay systemd nftables \
            tshark python3-yaml chromium chromium-driver python3-selenium fonts-ipafont-gothic

.PHONY: deps test-deps build demo test fuzz sanitize clean

# Installs only what is missing: apt-get (and its update) runs on a machine that lacks a
# package, not on every build, so a build does not wait for, or fight, another apt.
MISSING = for p in $(1); do dpkg-query -W -f='$${db:Status-Status}' $$p 2>/dev/null | \
	    grep -qx installed || printf '%s ' $$p; done

deps:
	@m="$$($(call MISSING,$(DEPS)))"; if [ -z "$$m" ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then echo "installing: $$m" && apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$m >/dev/null; \
	else echo "not root: these packages are missing: $$m"; fi

test-deps: deps
	@m="$$($(call MISSING,$(TEST_DEPS)))"; if [ -z "$$m" ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then echo "installing: $$m" && apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$m >/dev/null; \
	else echo "not root: tests needing $$m or root are skipped"; fi

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j2

demo: build
	@$(BUILD)/mimamori -r tests/data/demo.pcap --eve - | grep '"event_type":"alert"' 

test: test-deps build
	cmake -S . -B $(BUILD)-asan -DMIMAMORI_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build $(BUILD)-asan -j2
	@# Both suites run whatever the first one found; the target fails if either did.
	@rc=0; (cd $(BUILD) && ctest -j2 --output-on-failure -E robustness) || rc=1; \
	(cd $(BUILD)-asan && ctest -j2 --output-on-failure -E 'corpus_vs_ndpireader|false_alerts') \
	    || rc=$$((rc | 2)); \
	case $$rc in 0) ;; 1) echo "make test: the first suite failed";; \
	    2) echo "make test: the ASan/UBSan suite failed";; *) echo "make test: both suites failed";; \
	esac; exit $$rc

# libFuzzer on each parser and loader for FUZZ_SECONDS, from the committed seeds (the
# config and rule loaders: the example sites and the shipped rules).
FUZZ_SECONDS ?= 60
fuzz: test-deps
	@if [ "$$(id -u)" = 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang >/dev/null; fi
	CC=clang cmake -S . -B $(BUILD)-fuzz -DMIMAMORI_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD)-fuzz -j2 --target fuzz_hl7 fuzz_dicom fuzz_decode fuzz_dns fuzz_dcerpc fuzz_intel fuzz_config fuzz_rules
	for p in hl7 dicom decode dns dcerpc intel config rules; do mkdir -p $(BUILD)-fuzz/corpus/$$p && \
	    case $$p in config) s=rules/examples;; rules) s=rules;; *) s=tests/fuzz/corpus/$$p;; esac && \
	    $(BUILD)-fuzz/tests/fuzz_$$p -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    $(BUILD)-fuzz/corpus/$$p $$s || exit 1; done

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-fuzz
