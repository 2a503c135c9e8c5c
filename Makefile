# hitlq - human-in-the-loop exception queue server.
#
# Targets: all (release build in build/), test (everything rebuilt with
# ASan+UBSan in build/test/, then scripts/run-tests.sh), bench, fuzz,
# install (PREFIX, DESTDIR, SYSCONFDIR, MANDIR, UNITDIR), install-check
# (scripts/test-install.sh), clean; checks: check-style
# (scripts/check-style.sh), lint (cppcheck), clang (release build with
# clang in build/clang/).  B= and T= move the release and test builds
# (e.g. make CC=clang B=build/clang all).  Dependencies come from pkg-config.

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
VERSION  = 0.1.0

PKGS      = libevent libevent_pthreads libevent_openssl msgpack lmdb libsodium libssl libcrypto jansson libconfuse libpq libzstd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))
CLIENT_PKGS = msgpack libssl libcrypto
CLIENT_LIBS := $(shell pkg-config --libs $(CLIENT_PKGS))
# The CLI's workstation (`hitlq work`, client/cli/work_tui.c) draws with ncurses.
CURSES_LIBS := $(shell pkg-config --libs ncursesw 2>/dev/null || echo -lncursesw)

WARN    = -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wno-unused-parameter
BASEFLAGS = -std=c11 -D_GNU_SOURCE -DHITLQ_VERSION='"$(VERSION)"' -g $(WARN) \
            $(PKG_CFLAGS)
OPT     ?= -O2
SANFLAGS = -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

B = build
T = build/test

# ---- layers -------------------------------------------------------------------
# Each wing is compiled with the include paths of the wings it may use, so
# an include against the direction (ARCHITECTURE.md) does not compile:
#   proto -> util -> score;  util -> store -> audit;  auth;  net;  cmd;  main
# scripts/check-style.sh checks the same table on the #include lines.
INC_proto = -Iinclude -Iproto
INC_util  = $(INC_proto) -Iserver/util
INC_score = $(INC_util) -Iserver/score -Iserver/score/model
INC_store = $(INC_util) -Iserver/store
INC_audit = $(INC_util) -Iserver/store -Iserver/audit
INC_auth  = $(INC_util) -Iserver/store -Iserver/audit -Iserver/auth
INC_net   = $(INC_util) -Iserver/auth -Iserver/net
INC_http  = $(INC_util) -Iserver/auth -Iserver/http
INC_ha    = $(INC_util) -Iserver/store -Iserver/ha
INC_cmd   = $(INC_util) -Iserver/score -Iserver/score/model -Iserver/store -Iserver/audit -Iserver/auth -Iserver/net -Iserver/http -Iserver/ha -Iserver/cmd
INC_main  = $(INC_cmd)
INC_clib  = $(INC_proto) -Iclient/lib
INC_cli   = -Iinclude -Iclient/cli
INC_aud   = $(INC_proto) -Iclient/audit
INC_tests = $(INC_cmd) -Iclient/lib -Iclient/cli -Iclient/audit -Itests/lib -Itests/fuzz
INC = $(INC_proto)

PROTO_SRCS  = proto/frame.c proto/validate.c proto/wire.c proto/wire_pack.c proto/status.c proto/auth_msg.c \
              proto/triage_name.c
AUDIT_SRCS  = proto/merkle.c proto/note.c proto/checkpoint.c proto/record.c proto/record_ext.c \
              proto/proof.c proto/drift_stats.c
SERVER_SRCS = $(wildcard server/util/*.c server/score/*.c server/score/model/*.c server/store/*.c \
                         server/audit/*.c server/auth/*.c server/net/*.c server/http/*.c \
                         server/ha/*.c server/cmd/*.c)
CLIENT_SRCS = $(wildcard client/lib/*.c)
CLI_SRCS    = $(wildcard client/cli/*.c)
# hitlq-audit: the auditor's verifier (client/audit/; none of it goes into
# libhitlq).  Links the audit codec, libhitlq, libcrypto (SHA-256),
# libsodium (Ed25519) and jansson.
AUD_SRCS    = $(wildcard client/audit/*.c)
AUD_LIBS   := $(shell pkg-config --libs msgpack libsodium libssl libcrypto jansson)
TEST_SRCS   = $(wildcard tests/unit/test_*.c tests/e2e/test_*.c tests/interop/test_*.c)
TEST_HELPERS = $(filter-out tests/lib/audit_%.c, $(wildcard tests/lib/*.c))
AUD_TEST_HELPERS = $(wildcard tests/lib/audit_*.c)      # test_audit_tool only
BENCH_SRCS  = $(wildcard tests/bench/bench_*.c)
FUZZ_SRCS   = $(wildcard tests/fuzz/fuzz_*.c)
DEFAULTS    = $(wildcard server/score/defaults/*)

# Which include paths an object gets: by the folder of its source.
define wing_incs
$(1)/proto/%.o:        INC = $$(INC_proto)
$(1)/server/util/%.o:  INC = $$(INC_util)
$(1)/server/score/%.o: INC = $$(INC_score)
$(1)/server/store/%.o: INC = $$(INC_store)
$(1)/server/audit/%.o: INC = $$(INC_audit)
$(1)/server/auth/%.o:  INC = $$(INC_auth)
$(1)/server/net/%.o:   INC = $$(INC_net)
$(1)/server/http/%.o:  INC = $$(INC_http)
$(1)/server/ha/%.o:    INC = $$(INC_ha)
$(1)/server/cmd/%.o:   INC = $$(INC_cmd)
$(1)/server/main.o:    INC = $$(INC_main)
$(1)/client/lib/%.o:   INC = $$(INC_clib)
$(1)/client/cli/%.o:   INC = $$(INC_cli)
$(1)/client/audit/%.o: INC = $$(INC_aud)
$(1)/tests/%.o:        INC = $$(INC_tests)
$(1)/unsafe/%.o:       INC = $$(INC_cmd)
endef
$(foreach d,$(B) $(T),$(eval $(call wing_incs,$(d))))

# Test binaries land in $(T)/tests/ whatever their folder.
test_bin = $(T)/tests/$(basename $(notdir $(1)))

# ---- release build ---------------------------------------------------------
all: $(B)/hitlqd $(B)/hitlq $(B)/hitlq-audit $(B)/libhitlq.a $(B)/libhitlq.so $(B)/hitlq.pc

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(INC) $(OPT) -fPIC -MMD -MP -c $< -o $@

$(B)/server/score/defaults.o: $(DEFAULTS)

# The dashboard page (server/cmd/dashboard.html) goes into hitlqd as a C
# array generated by scripts/embed-file.sh under each build directory.
DASH_PAGE = server/cmd/dashboard.html
$(B)/gen/dashboard_html.c $(T)/gen/dashboard_html.c: $(DASH_PAGE) scripts/embed-file.sh
	@mkdir -p $(dir $@)
	sh scripts/embed-file.sh $(DASH_PAGE) hitlq_dashboard_html > $@.tmp && mv $@.tmp $@
$(B)/gen/dashboard_html.o: $(B)/gen/dashboard_html.c
	$(CC) $(BASEFLAGS) $(OPT) -fPIC -c $< -o $@
$(T)/gen/dashboard_html.o: $(T)/gen/dashboard_html.c
	$(CC) $(BASEFLAGS) $(SANFLAGS) -c $< -o $@

$(B)/libhitlqd.a: $(PROTO_SRCS:%.c=$(B)/%.o) $(AUDIT_SRCS:%.c=$(B)/%.o) $(SERVER_SRCS:%.c=$(B)/%.o) $(B)/gen/dashboard_html.o
	ar rcs $@ $^
$(B)/hitlqd: $(B)/server/main.o $(B)/libhitlqd.a
	$(CC) -o $@ $^ $(PKG_LIBS) -lpthread -lm
$(B)/libhitlq.a: $(PROTO_SRCS:%.c=$(B)/%.o) $(CLIENT_SRCS:%.c=$(B)/%.o)
	ar rcs $@ $^
# Exports only the hitlq_ API (client/lib/libhitlq.map).
LIB_MAP = client/lib/libhitlq.map
$(B)/libhitlq.so: $(PROTO_SRCS:%.c=$(B)/%.o) $(CLIENT_SRCS:%.c=$(B)/%.o) $(LIB_MAP)
	$(CC) -shared -Wl,-soname,libhitlq.so.0 -Wl,--version-script=$(LIB_MAP) -o $@ $(filter %.o,$^) $(CLIENT_LIBS)
$(B)/hitlq: $(CLI_SRCS:%.c=$(B)/%.o) $(B)/libhitlq.a
	$(CC) -o $@ $^ $(PKG_LIBS) $(CURSES_LIBS) -lm
$(B)/hitlq-audit: $(AUD_SRCS:%.c=$(B)/%.o) $(AUDIT_SRCS:%.c=$(B)/%.o) $(B)/libhitlq.a
	$(CC) -o $@ $^ $(AUD_LIBS) -lm
$(B)/hitlq.pc: scripts/hitlq.pc.in
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

# ---- test build (ASan + UBSan) ----------------------------------------------
$(T)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(INC) $(SANFLAGS) -MMD -MP -c $< -o $@
$(T)/server/score/defaults.o: $(DEFAULTS)
$(T)/libhitlqd.a: $(PROTO_SRCS:%.c=$(T)/%.o) $(AUDIT_SRCS:%.c=$(T)/%.o) $(SERVER_SRCS:%.c=$(T)/%.o) $(T)/gen/dashboard_html.o
	ar rcs $@ $^
$(T)/libhitlq.a: $(CLIENT_SRCS:%.c=$(T)/%.o)
	ar rcs $@ $^
$(T)/hitlqd: $(T)/server/main.o $(T)/libhitlqd.a
	$(CC) $(SANFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread -lm
$(T)/hitlq: $(CLI_SRCS:%.c=$(T)/%.o) $(T)/libhitlq.a $(T)/libhitlqd.a
	$(CC) $(SANFLAGS) -o $@ $^ $(PKG_LIBS) $(CURSES_LIBS) -lm
$(T)/hitlq-audit: $(AUD_SRCS:%.c=$(T)/%.o) $(AUDIT_SRCS:%.c=$(T)/%.o) $(PROTO_SRCS:%.c=$(T)/%.o) $(T)/libhitlq.a
	$(CC) $(SANFLAGS) -o $@ $^ $(AUD_LIBS) -lm

TEST_LINK = $(CC) $(SANFLAGS) -o $@ $^ $(PKG_LIBS) $(shell pkg-config --libs cmocka)
# The tool's tests call its modules directly and run the binary: no server.
AUD_MODS = $(filter-out client/audit/hitlq_audit.c, $(AUD_SRCS))
$(T)/tests/test_audit_tool: $(T)/tests/unit/test_audit_tool.o $(AUD_TEST_HELPERS:%.c=$(T)/%.o) $(AUD_MODS:%.c=$(T)/%.o) $(AUDIT_SRCS:%.c=$(T)/%.o) $(PROTO_SRCS:%.c=$(T)/%.o) $(T)/libhitlq.a | $(T)/hitlq-audit
	$(CC) $(SANFLAGS) -o $@ $^ $(AUD_LIBS) $(shell pkg-config --libs cmocka) -lpthread -lm
$(T)/tests/test_audit_drift: $(T)/tests/unit/test_audit_drift.o $(AUD_TEST_HELPERS:%.c=$(T)/%.o) $(AUD_MODS:%.c=$(T)/%.o) $(AUDIT_SRCS:%.c=$(T)/%.o) $(PROTO_SRCS:%.c=$(T)/%.o) $(T)/libhitlq.a | $(T)/hitlq-audit
	$(CC) $(SANFLAGS) -o $@ $^ $(AUD_LIBS) $(shell pkg-config --libs cmocka) -lpthread -lm
$(T)/tests/test_audit_review_bad: $(T)/tests/unit/test_audit_review_bad.o $(AUD_TEST_HELPERS:%.c=$(T)/%.o) $(AUD_MODS:%.c=$(T)/%.o) $(AUDIT_SRCS:%.c=$(T)/%.o) $(PROTO_SRCS:%.c=$(T)/%.o) $(T)/libhitlq.a | $(T)/hitlq-audit
	$(CC) $(SANFLAGS) -o $@ $^ $(AUD_LIBS) $(shell pkg-config --libs cmocka) -lpthread -lm
# The XGBoost oracle test trains its reference models with libxgboost.
$(T)/tests/test_xgb_capi: $(T)/tests/unit/test_xgb_capi.o $(TEST_HELPERS:%.c=$(T)/%.o) $(T)/libhitlq.a $(T)/libhitlqd.a
	$(TEST_LINK) -lxgboost -lpthread -lm
define test_rule
$(call test_bin,$(1)): $(T)/$(1:.c=.o) $(TEST_HELPERS:%.c=$(T)/%.o) $(T)/libhitlq.a $(T)/libhitlqd.a
	$$(TEST_LINK) -lpthread -lm
endef
$(foreach t,$(filter-out %/test_audit_tool.c %/test_audit_drift.c %/test_audit_review_bad.c %/test_xgb_capi.c,$(TEST_SRCS)),$(eval $(call test_rule,$(t))))

# Negative control for the crash-loop test (tests/e2e/test_crash.c): the
# test server with server/cmd/commit.c built to acknowledge BEFORE the
# durable commit.  Test-only and deliberately broken: never install or ship it.
$(T)/unsafe/commit.o: server/cmd/commit.c
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(INC) $(SANFLAGS) -DHITLQ_UNSAFE_ACK_BEFORE_COMMIT -MMD -MP -c $< -o $@
$(T)/hitlqd-unsafe: $(T)/server/main.o $(T)/unsafe/commit.o $(T)/gen/dashboard_html.o \
                    $(filter-out $(T)/server/cmd/commit.o, $(PROTO_SRCS:%.c=$(T)/%.o) $(AUDIT_SRCS:%.c=$(T)/%.o) $(SERVER_SRCS:%.c=$(T)/%.o))
	$(CC) $(SANFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread -lm

# ---- HA failover suite (scripts/ha/test-ha.sh, docs/HA.md) ---------------------
# The workload and checker link the release libhitlq; the negative control
# hitlqd (HA_UNSAFE=1) appends each write-set one batch late, so it
# acknowledges before the replicated commit: test-only, never install it.
HA_TOOLS = $(B)/tests/ha_load $(B)/tests/ha_check
$(B)/tests/ha_load: tests/ha/ha_load.c tests/lib/credit_items.c $(B)/libhitlq.a
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(INC_tests) $(OPT) -o $@ $^ $(CLIENT_LIBS) -lpthread -lm
$(B)/tests/ha_check: tests/ha/ha_check.c $(B)/libhitlq.a
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(INC_tests) $(OPT) -o $@ $^ $(CLIENT_LIBS) -lm
$(B)/ha-unsafe/ha_log.o: server/ha/ha_log.c
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(INC_ha) $(OPT) -DHITLQ_UNSAFE_HA_ACK_EARLY -c $< -o $@
$(B)/ha-unsafe/hitlqd: $(B)/server/main.o $(B)/ha-unsafe/ha_log.o $(B)/gen/dashboard_html.o \
                    $(filter-out $(B)/server/ha/ha_log.o, $(PROTO_SRCS:%.c=$(B)/%.o) $(AUDIT_SRCS:%.c=$(B)/%.o) $(SERVER_SRCS:%.c=$(B)/%.o))
	$(CC) -o $@ $^ $(PKG_LIBS) -lpthread -lm
ha-build: all $(HA_TOOLS) $(B)/ha-unsafe/hitlqd
test-ha: ha-build
	bash scripts/ha/test-ha.sh
# The negative control: the checker must report lost acknowledged items.
# Replicated throughput and its ratio to single-node, ack latency, failover.
bench-ha: ha-build bench-build
	bash scripts/ha/bench-ha.sh
test-ha-unsafe: ha-build
	HA_UNSAFE=1 bash scripts/ha/test-ha.sh kill-leader; test $$? -ne 0

TEST_BINS = $(foreach t,$(TEST_SRCS),$(call test_bin,$(t)))
# LD_PRELOAD fault shims (tests/faults/libfault_*.c), built without sanitizers.
FAULT_SHIMS = $(patsubst tests/faults/%.c,$(T)/faults/%.so,$(wildcard tests/faults/libfault_*.c))
$(T)/faults/%.so: tests/faults/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror -fPIC -shared -o $@ $< -ldl
test-build: $(T)/hitlqd $(T)/hitlqd-unsafe $(T)/hitlq $(T)/hitlq-audit $(TEST_BINS) $(B)/hitlq.pc $(FAULT_SHIMS)
test: test-build
	sh scripts/run-tests.sh $(T)
# The fault suite (LD_PRELOAD shims of tests/faults/), also part of `make test`.
FAULT_TESTS = $(T)/tests/test_clock_jump $(T)/tests/test_store_faults $(T)/tests/test_map_size
FAULT_TESTS += $(T)/tests/test_hostile_mix
FAULT_TESTS += $(T)/tests/test_preauth $(T)/tests/test_fairness
FAULT_TESTS += $(T)/tests/test_crash     # the crash loop: kill -9 under load, repeatedly
faults: test-build
	@for t in $(FAULT_TESTS); do echo "=== $$t"; $$t || exit 1; done

# ---- benchmark (release build) ------------------------------------------------
BENCH_BINS = $(BENCH_SRCS:tests/bench/%.c=$(B)/tests/%)
# bench_score compares hitlq's tree evaluator with libxgboost's own.
$(B)/tests/bench_score: $(B)/tests/bench/bench_score.o $(B)/libhitlq.a $(B)/libhitlqd.a
	$(CC) -o $@ $^ $(PKG_LIBS) -lxgboost -lpthread -lm
$(B)/tests/bench_%: $(B)/tests/bench/bench_%.o $(B)/libhitlq.a $(B)/libhitlqd.a
	$(CC) -o $@ $^ $(PKG_LIBS) -lpthread -lm
bench-build: all $(BENCH_BINS)
bench: bench-build
	sh scripts/bench.sh $(B)

# ---- HA development cluster (scripts/ha/cluster.sh, docs/HA.md "Development cluster") ----
# pgproxy: the partition device; pgappend_bench: raw append budget of the
# PostgreSQL cluster (libpq).  test-ha-cluster: the cluster's smoke test.
HA_PQ_CFLAGS := $(shell pkg-config --cflags libpq)
HA_PQ_LIBS   := $(shell pkg-config --libs libpq)
$(B)/tests/ha/pgappend_bench.o: INC = $(INC_tests) $(HA_PQ_CFLAGS)
$(B)/tests/pgproxy: $(B)/tests/ha/pgproxy.o
	$(CC) -o $@ $^
$(B)/tests/pgappend_bench: $(B)/tests/ha/pgappend_bench.o
	$(CC) -o $@ $^ $(HA_PQ_LIBS) -lm
ha-build: $(B)/tests/pgproxy $(B)/tests/pgappend_bench
test-ha-cluster: ha-build
	bash tests/ha/test_cluster_smoke.sh $(B)
bench-ha-append: ha-build
	bash tests/ha/bench_append.sh $(B)

# ---- fuzzing (clang + libFuzzer) -----------------------------------------------
F = build/fuzz
FUZZCC ?= clang
FUZZFLAGS = -std=c11 -D_GNU_SOURCE -DHITLQ_VERSION='"$(VERSION)"' -g -O1 $(INC_cmd) $(PKG_CFLAGS) \
            -fsanitize=fuzzer,address,undefined
# The triage and dispatch targets link the server (scoring core, opcode table).
$(F)/fuzz_dispatch: tests/fuzz/fuzz_dispatch.c $(PROTO_SRCS) $(AUDIT_SRCS) $(SERVER_SRCS) $(DEFAULTS) $(B)/gen/dashboard_html.c
	@mkdir -p $(F)
	$(FUZZCC) $(FUZZFLAGS) -o $@ $(filter %.c,$^) $(PKG_LIBS) -lpthread -lm
$(F)/fuzz_triage: tests/fuzz/fuzz_triage.c $(PROTO_SRCS) $(AUDIT_SRCS) $(SERVER_SRCS) $(DEFAULTS) $(B)/gen/dashboard_html.c
	@mkdir -p $(F)
	$(FUZZCC) $(FUZZFLAGS) -o $@ $(filter %.c,$^) $(PKG_LIBS) -lpthread -lm
$(F)/fuzz_xgb: tests/fuzz/fuzz_xgb.c server/score/model/model_xgb.c server/score/model/xgb_shap.c
	@mkdir -p $(F)
	$(FUZZCC) $(FUZZFLAGS) -o $@ $^ $(PKG_LIBS)
# fuzz_wset applies write-sets to a real store: the store and util wings.
$(F)/fuzz_wset: tests/fuzz/fuzz_wset.c $(PROTO_SRCS) $(wildcard server/util/*.c server/store/*.c)
	@mkdir -p $(dir $@)
	$(FUZZCC) $(FUZZFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread -lm
$(F)/%: tests/fuzz/%.c $(PROTO_SRCS) $(AUDIT_SRCS)
	@mkdir -p $(F)
	$(FUZZCC) $(FUZZFLAGS) -o $@ $^ $(PKG_LIBS)
FUZZ_BINS = $(FUZZ_SRCS:tests/fuzz/%.c=$(F)/%)
fuzz: $(FUZZ_BINS)
	sh scripts/fuzz.sh $(F) $${FUZZ_SECONDS:-60}
fuzz-build: $(FUZZ_BINS)

# ---- install ------------------------------------------------------------------
# The Python client (client/python/hitlq) goes where Debian's python3 looks
# for $(PREFIX): $(PREFIX)/lib/python3.X/dist-packages (PYDIR= overrides).
PYTHON3 ?= /usr/bin/python3
PYDIR   ?= $(PREFIX)/lib/$(shell $(PYTHON3) -c 'import sys; print("python%d.%d" % sys.version_info[:2])' 2>/dev/null || echo python3)/dist-packages
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 0755 $(B)/hitlqd $(B)/hitlq $(B)/hitlq-audit $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(B)/libhitlq.a $(DESTDIR)$(PREFIX)/lib/
	install -m 0755 $(B)/libhitlq.so $(DESTDIR)$(PREFIX)/lib/libhitlq.so.0
	ln -sf libhitlq.so.0 $(DESTDIR)$(PREFIX)/lib/libhitlq.so
	install -m 0644 include/hitlq.h include/hitlq_proto.h include/hitlq_msgpack.h \
	    include/hitlq_async.h include/hitlq_libevent.h $(DESTDIR)$(PREFIX)/include/
	install -m 0644 $(B)/hitlq.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	install -d $(DESTDIR)$(PYDIR)/hitlq
	install -m 0644 client/python/hitlq/*.py $(DESTDIR)$(PYDIR)/hitlq/
	$(MAKE) install-daemon

# The daemon's files (README.md "Install as a daemon"): the systemd unit
# (dist/hitlqd.service.in), the man pages (docs/man/; hitlqd.conf(5) made
# from the option table by dist/conf-man.sh), the sample configuration
# (dist/hitlqd.conf, never over an existing one) and `hitlqd -C`'s full
# sample.  install-check installs into a temporary DESTDIR and runs it.
SYSCONFDIR ?= $(PREFIX)/etc
MANDIR     ?= $(PREFIX)/share/man
UNITDIR    ?= $(PREFIX)/lib/systemd/system
$(B)/hitlqd.service: dist/hitlqd.service.in
	sed -e 's|@BINDIR@|$(PREFIX)/bin|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' $< > $@
$(B)/hitlqd.conf.5: docs/man/hitlqd.conf.5.in dist/conf-man.sh $(B)/hitlqd
	sh dist/conf-man.sh $(B)/hitlqd $< > $@
install-daemon: $(B)/hitlqd.service $(B)/hitlqd.conf.5
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSCONFDIR)/hitlq $(DESTDIR)$(PREFIX)/share/doc/hitlq
	install -m 0644 $(B)/hitlqd.service $(DESTDIR)$(UNITDIR)/
	install -m 0644 docs/man/hitlqd.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 docs/man/hitlq.1 docs/man/hitlq-audit.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(B)/hitlqd.conf.5 $(DESTDIR)$(MANDIR)/man5/
	[ -e $(DESTDIR)$(SYSCONFDIR)/hitlq/hitlqd.conf ] || \
	    install -m 0644 dist/hitlqd.conf $(DESTDIR)$(SYSCONFDIR)/hitlq/hitlqd.conf
	$(B)/hitlqd -C > $(DESTDIR)$(PREFIX)/share/doc/hitlq/hitlqd.conf.sample
install-check: all
	sh scripts/test-install.sh

clean:
	rm -rf build

# ---- checks -------------------------------------------------------------------
check-style:
	CC=$(CC) sh scripts/check-style.sh

# cppcheck, each wing with its own include paths (as the compiler sees it);
# any finding fails.  False positives are suppressed where they occur with
# a /* cppcheck-suppress ID ; reason */ comment.
CPPCHECK = cppcheck --error-exitcode=1 --enable=warning,portability --inline-suppr -q \
           --std=c11 -D_GNU_SOURCE -DHITLQ_VERSION='"$(VERSION)"'
lint:
	$(CPPCHECK) $(INC_proto) proto/*.c
	$(CPPCHECK) $(INC_util) server/util/*.c
	$(CPPCHECK) $(INC_score) server/score/*.c server/score/model/*.c
	$(CPPCHECK) $(INC_store) server/store/*.c
	$(CPPCHECK) $(INC_audit) server/audit/*.c
	$(CPPCHECK) $(INC_auth) server/auth/*.c
	$(CPPCHECK) $(INC_net) server/net/*.c
	$(CPPCHECK) $(INC_http) server/http/*.c
	$(CPPCHECK) $(INC_cmd) server/cmd/*.c
	$(CPPCHECK) $(INC_main) server/main.c
	$(CPPCHECK) $(INC_clib) client/lib/*.c
	$(CPPCHECK) $(INC_cli) client/cli/*.c
	$(CPPCHECK) $(INC_aud) client/audit/*.c

# The release build with clang (-Werror: its warnings differ from gcc's),
# beside the gcc one.
clang:
	$(MAKE) CC=clang B=build/clang all

.PHONY: ha-build test-ha test-ha-unsafe bench-ha test-ha-cluster bench-ha-append
.PHONY: all test test-build bench bench-build fuzz fuzz-build install install-daemon install-check clean check-style lint clang faults
.SECONDARY:
-include $(shell find build -name '*.d' 2>/dev/null)
