# hitlq - human-in-the-loop exception queue server.
#
# Targets: all (release build in build/), test (everything rebuilt with
# ASan+UBSan in build/test/, then scripts/run-tests.sh), bench, fuzz,
# install (PREFIX, DESTDIR), clean.  Dependencies come from pkg-config.

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
VERSION  = 0.1.0

PKGS      = libevent libevent_pthreads libevent_openssl msgpack lmdb libsodium libssl libcrypto jansson libconfuse
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))
CLIENT_PKGS = msgpack libssl libcrypto
CLIENT_LIBS := $(shell pkg-config --libs $(CLIENT_PKGS))

WARN    = -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wno-unused-parameter
BASEFLAGS = -std=c11 -D_GNU_SOURCE -DHITLQ_VERSION='"$(VERSION)"' -g $(WARN) \
            -Iinclude -Iproto -Iserver -Iclient $(PKG_CFLAGS)
OPT     ?= -O2
SANFLAGS = -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

PROTO_SRCS  = proto/frame.c proto/validate.c proto/wire.c proto/wire_pack.c proto/status.c proto/auth_msg.c
AUDIT_SRCS  = $(wildcard proto/merkle.c proto/note.c proto/checkpoint.c proto/record.c proto/proof.c)
SERVER_SRCS = $(filter-out server/main.c, $(wildcard server/*.c))
CLIENT_SRCS = $(filter-out client/hitlq.c client/cli_%.c client/hitlq_audit.c client/aud_%.c, $(wildcard client/*.c))
CLI_SRCS    = client/hitlq.c $(wildcard client/cli_*.c)
# hitlq-audit: the auditor's verifier (client/aud_*.c are its modules; none
# of it goes into libhitlq).  Links the audit codec, libhitlq, libcrypto
# (SHA-256), libsodium (Ed25519) and jansson.
AUD_SRCS    = $(wildcard client/aud_*.c)
AUD_LIBS   := $(shell pkg-config --libs msgpack libsodium libssl libcrypto jansson)
TEST_SRCS   = $(wildcard tests/test_*.c)
TEST_HELPERS = $(filter-out tests/test_%.c tests/fuzz_%.c tests/bench_%.c tests/audit_%.c, $(wildcard tests/*.c))
AUD_TEST_HELPERS = $(wildcard tests/audit_*.c)      # test_audit_tool only
BENCH_SRCS  = $(wildcard tests/bench_*.c)
FUZZ_SRCS   = $(wildcard tests/fuzz_*.c)
DEFAULTS    = $(wildcard server/defaults/*)

# ---- release build ---------------------------------------------------------
B = build
all: $(B)/hitlqd $(B)/hitlq $(B)/hitlq-audit $(B)/libhitlq.a $(B)/libhitlq.so $(B)/hitlq.pc

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(OPT) -fPIC -MMD -MP -c $< -o $@

$(B)/server/defaults.o: $(DEFAULTS)

$(B)/libhitlqd.a: $(PROTO_SRCS:%.c=$(B)/%.o) $(AUDIT_SRCS:%.c=$(B)/%.o) $(SERVER_SRCS:%.c=$(B)/%.o)
	ar rcs $@ $^
$(B)/hitlqd: $(B)/server/main.o $(B)/libhitlqd.a
	$(CC) -o $@ $^ $(PKG_LIBS) -lpthread -lm
$(B)/libhitlq.a: $(PROTO_SRCS:%.c=$(B)/%.o) $(CLIENT_SRCS:%.c=$(B)/%.o)
	ar rcs $@ $^
$(B)/libhitlq.so: $(PROTO_SRCS:%.c=$(B)/%.o) $(CLIENT_SRCS:%.c=$(B)/%.o)
	$(CC) -shared -Wl,-soname,libhitlq.so.0 -o $@ $^ $(CLIENT_LIBS)
$(B)/hitlq: $(CLI_SRCS:%.c=$(B)/%.o) $(B)/libhitlq.a
	$(CC) -o $@ $^ $(PKG_LIBS) -lm
$(B)/hitlq-audit: $(B)/client/hitlq_audit.o $(AUD_SRCS:%.c=$(B)/%.o) $(AUDIT_SRCS:%.c=$(B)/%.o) $(B)/libhitlq.a
	$(CC) -o $@ $^ $(AUD_LIBS) -lm
$(B)/hitlq.pc: scripts/hitlq.pc.in
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

# ---- test build (ASan + UBSan) ----------------------------------------------
T = build/test
$(T)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(SANFLAGS) -MMD -MP -c $< -o $@
$(T)/server/defaults.o: $(DEFAULTS)
$(T)/libhitlqd.a: $(PROTO_SRCS:%.c=$(T)/%.o) $(AUDIT_SRCS:%.c=$(T)/%.o) $(SERVER_SRCS:%.c=$(T)/%.o)
	ar rcs $@ $^
$(T)/libhitlq.a: $(CLIENT_SRCS:%.c=$(T)/%.o)
	ar rcs $@ $^
$(T)/hitlqd: $(T)/server/main.o $(T)/libhitlqd.a
	$(CC) $(SANFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread -lm
$(T)/hitlq: $(CLI_SRCS:%.c=$(T)/%.o) $(T)/libhitlq.a $(T)/libhitlqd.a
	$(CC) $(SANFLAGS) -o $@ $^ $(PKG_LIBS) -lm
$(T)/hitlq-audit: $(T)/client/hitlq_audit.o $(AUD_SRCS:%.c=$(T)/%.o) $(AUDIT_SRCS:%.c=$(T)/%.o) $(PROTO_SRCS:%.c=$(T)/%.o) $(T)/libhitlq.a
	$(CC) $(SANFLAGS) -o $@ $^ $(AUD_LIBS) -lm
# The tool's tests call its modules directly and run the binary: no server.
$(T)/tests/test_audit_tool: $(T)/tests/test_audit_tool.o $(AUD_TEST_HELPERS:%.c=$(T)/%.o) $(AUD_SRCS:%.c=$(T)/%.o) $(AUDIT_SRCS:%.c=$(T)/%.o) $(PROTO_SRCS:%.c=$(T)/%.o) $(T)/libhitlq.a | $(T)/hitlq-audit
	$(CC) $(SANFLAGS) -o $@ $^ $(AUD_LIBS) $(shell pkg-config --libs cmocka) -lpthread -lm
# The XGBoost oracle test trains its reference models with libxgboost.
$(T)/tests/test_xgb_capi: $(T)/tests/test_xgb_capi.o $(TEST_HELPERS:%.c=$(T)/%.o) $(T)/libhitlq.a $(T)/libhitlqd.a
	$(CC) $(SANFLAGS) -o $@ $^ $(PKG_LIBS) $(shell pkg-config --libs cmocka) -lxgboost -lpthread -lm
$(T)/tests/test_%: $(T)/tests/test_%.o $(TEST_HELPERS:%.c=$(T)/%.o) $(T)/libhitlq.a $(T)/libhitlqd.a
	$(CC) $(SANFLAGS) -o $@ $^ $(PKG_LIBS) $(shell pkg-config --libs cmocka) -lpthread -lm

# Negative control for the crash-loop test (RELIABILITY.md §3 T1): the test
# server with server/commit.c built to acknowledge BEFORE the durable commit.
# Test-only and deliberately broken: never install or ship it.
$(T)/unsafe/commit.o: server/commit.c
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(SANFLAGS) -DHITLQ_UNSAFE_ACK_BEFORE_COMMIT -MMD -MP -c $< -o $@
$(T)/hitlqd-unsafe: $(T)/server/main.o $(T)/unsafe/commit.o \
                    $(filter-out $(T)/server/commit.o, $(PROTO_SRCS:%.c=$(T)/%.o) $(AUDIT_SRCS:%.c=$(T)/%.o) $(SERVER_SRCS:%.c=$(T)/%.o))
	$(CC) $(SANFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread -lm

TEST_BINS = $(TEST_SRCS:%.c=$(T)/%)
test-build: $(T)/hitlqd $(T)/hitlqd-unsafe $(T)/hitlq $(T)/hitlq-audit $(TEST_BINS) $(B)/hitlq.pc
test: test-build
	sh scripts/run-tests.sh $(T)

# ---- benchmark (release build) ------------------------------------------------
# bench_score compares hitlq's tree evaluator with libxgboost's own.
$(B)/tests/bench_score: $(B)/tests/bench_score.o $(B)/libhitlq.a $(B)/libhitlqd.a
	$(CC) -o $@ $^ $(PKG_LIBS) -lxgboost -lpthread -lm
$(B)/tests/bench_%: $(B)/tests/bench_%.o $(B)/libhitlq.a $(B)/libhitlqd.a
	$(CC) -o $@ $^ $(PKG_LIBS) -lpthread -lm
bench: all $(BENCH_SRCS:%.c=$(B)/%)
	sh scripts/bench.sh $(B)

# ---- fuzzing (clang + libFuzzer) -----------------------------------------------
F = build/fuzz
FUZZCC ?= clang
FUZZFLAGS = -std=c11 -D_GNU_SOURCE -DHITLQ_VERSION='"$(VERSION)"' -g -O1 -Iinclude -Iproto -Iserver $(PKG_CFLAGS) \
            -fsanitize=fuzzer,address,undefined
# The triage and dispatch targets link the server (scoring core, opcode table).
$(F)/fuzz_dispatch: tests/fuzz_dispatch.c $(PROTO_SRCS) $(AUDIT_SRCS) $(SERVER_SRCS) $(DEFAULTS)
	@mkdir -p $(F)
	$(FUZZCC) $(FUZZFLAGS) -o $@ $(filter %.c,$^) $(PKG_LIBS) -lpthread -lm
$(F)/fuzz_triage: tests/fuzz_triage.c $(PROTO_SRCS) $(AUDIT_SRCS) $(SERVER_SRCS) $(DEFAULTS)
	@mkdir -p $(F)
	$(FUZZCC) $(FUZZFLAGS) -o $@ $(filter %.c,$^) $(PKG_LIBS) -lpthread -lm
$(F)/fuzz_xgb: tests/fuzz_xgb.c server/model_xgb.c server/xgb_shap.c
	@mkdir -p $(F)
	$(FUZZCC) $(FUZZFLAGS) -o $@ $^ $(PKG_LIBS)
$(F)/%: tests/%.c $(PROTO_SRCS) $(AUDIT_SRCS)
	@mkdir -p $(F)
	$(FUZZCC) $(FUZZFLAGS) -o $@ $^ $(PKG_LIBS)
FUZZ_BINS = $(FUZZ_SRCS:tests/%.c=$(F)/%)
fuzz: $(FUZZ_BINS)
	sh scripts/fuzz.sh $(F) $${FUZZ_SECONDS:-60}
fuzz-build: $(FUZZ_BINS)

# ---- install ------------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 0755 $(B)/hitlqd $(B)/hitlq $(B)/hitlq-audit $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(B)/libhitlq.a $(DESTDIR)$(PREFIX)/lib/
	install -m 0755 $(B)/libhitlq.so $(DESTDIR)$(PREFIX)/lib/libhitlq.so.0
	ln -sf libhitlq.so.0 $(DESTDIR)$(PREFIX)/lib/libhitlq.so
	install -m 0644 include/hitlq.h include/hitlq_proto.h $(DESTDIR)$(PREFIX)/include/
	install -m 0644 $(B)/hitlq.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/

clean:
	rm -rf build

.PHONY: all test test-build bench fuzz fuzz-build install clean
.SECONDARY:
-include $(shell find build -name '*.d' 2>/dev/null)
