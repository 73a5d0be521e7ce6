package dev.reliablestore.registry.conformance;

import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.Change;
import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ChangeListener;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.ClusterStatus;
import dev.reliablestore.registry.CommitResult;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.FeedHistoryUnavailableException;
import dev.reliablestore.registry.HealthFault;
import dev.reliablestore.registry.NoSuchKeyException;
import dev.reliablestore.registry.NodeInfo;
import dev.reliablestore.registry.NodeState;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.ReadBatchResult;
import dev.reliablestore.registry.RegistryArgumentException;
import dev.reliablestore.registry.RegistryClosedException;
import dev.reliablestore.registry.RegistryLimitException;
import dev.reliablestore.registry.RegistryLimits;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.Subscription;
import dev.reliablestore.registry.ValueType;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.Watch;
import dev.reliablestore.registry.WriteBatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The behaviour every {@link ClusterRegistry} backend must show (see docs/registry-contract.md).
 * A backend's test extends this class and implements {@link #openRegistry()}; it may override
 * {@link #reopen}, {@link #cleanup()} and {@link #feedTimeout()}.
 *
 * <p>Each test gets a fresh, empty registry in {@link #registry}. The suite is kept fast (a few
 * seconds on a local backend) because every backend runs it.
 */
@SuppressWarnings("try") // watches opened in try-with-resources only to be closed at the end
public abstract class ClusterRegistryConformance {

    /** The registry under test, opened before each test and closed after it. */
    protected ClusterRegistry registry;

    /**
     * A fresh registry with no keys below its root, no values and no health faults. Called once
     * before each test.
     */
    protected abstract ClusterRegistry openRegistry() throws Exception;

    /**
     * Closes {@code current} and opens the same store again, as a restarted process would. Return
     * {@code null} when the backend cannot (the durability tests are then skipped).
     */
    protected ClusterRegistry reopen(ClusterRegistry current) throws Exception {
        return null;
    }

    /** Called after each test, once {@link #registry} is closed: remove servers, directories, fakes. */
    protected void cleanup() throws Exception {
    }

    /** How long to wait for listeners and other asynchronous outcomes. */
    protected Duration feedTimeout() {
        return Duration.ofSeconds(10);
    }

    /**
     * Makes the backend drop the change history it retains for replaying watches up to (at least)
     * {@link ClusterRegistry#currentSequence()}, as its {@code feedRetention} would once that much
     * time has passed; returns false when the test cannot (the retention test is then skipped).
     */
    protected boolean expireFeedHistory(ClusterRegistry current) throws Exception {
        return false;
    }

    @BeforeEach
    final void openFreshRegistry() throws Exception {
        registry = openRegistry();
        assertThat(registry).as("openRegistry() result").isNotNull();
    }

    @AfterEach
    final void closeRegistry() throws Exception {
        try {
            if (registry != null) {
                registry.close();
            }
        } finally {
            cleanup();
        }
    }

    // =========================================================================================
    // helpers
    // =========================================================================================

    protected static RegistryPath p(String path) {
        return RegistryPath.parse(path);
    }

    protected static RegistryValue sz(String s) {
        return RegistryValue.sz(s);
    }

    protected CommitResult commit(WriteBatch.Builder batch) {
        return registry.commit(batch.build());
    }

    protected CommitResult set(String key, String name, RegistryValue value) {
        return registry.commit(WriteBatch.builder().setValue(p(key), name, value).build());
    }

    /** The whole tree as "path:name" to value and revision, for comparing states. */
    protected Map<String, VersionedValue> dump(ClusterRegistry r) {
        Map<String, VersionedValue> out = new TreeMap<>();
        dumpInto(r, RegistryPath.root(), out);
        return out;
    }

    private void dumpInto(ClusterRegistry r, RegistryPath key, Map<String, VersionedValue> out) {
        out.put(key + "/", KEY_MARKER);
        r.values(key).forEach((name, v) -> out.put(key + ":" + name, v));
        for (String child : r.subkeys(key)) {
            dumpInto(r, key.child(child), out);
        }
    }

    private static final VersionedValue KEY_MARKER = new VersionedValue(RegistryValue.dword(0), Long.MAX_VALUE);

    private void assertEmptyAndUnchanged(long sequenceBefore) {
        assertThat(registry.currentSequence()).as("current sequence").isEqualTo(sequenceBefore);
        assertThat(registry.subkeys(RegistryPath.root())).as("root subkeys").isEmpty();
        assertThat(registry.values(RegistryPath.root())).as("root values").isEmpty();
    }

    private void assertConditionHolds(BatchCommand condition) {
        CommitResult r = registry.commit(WriteBatch.builder().add(condition).setValue(p("marker"), "m", RegistryValue.dword(1)).build());
        assertThat(registry.getValue(p("marker"), "m")).as("marker after " + condition).map(VersionedValue::revision).contains(r.sequence());
        registry.commit(WriteBatch.builder().deleteKey(p("marker")).build());
    }

    private void assertConditionFails(BatchCommand condition) {
        long before = registry.currentSequence();
        assertThatThrownBy(() -> registry.commit(WriteBatch.builder().add(condition).setValue(p("marker"), "m", RegistryValue.dword(1)).build()))
                .as("condition %s", condition)
                .isInstanceOfSatisfying(ConditionFailedException.class, e -> {
                    assertThat(e.failedCommandIndex()).isZero();
                    assertThat(e.failedCommand()).isEqualTo(condition);
                });
        assertThat(registry.keyExists(p("marker"))).as("marker after failed " + condition).isFalse();
        assertThat(registry.currentSequence()).isEqualTo(before);
    }

    private void awaitBatches(FeedRecorder recorder, int count) {
        await().atMost(feedTimeout()).untilAsserted(() -> assertThat(recorder.batches).hasSizeGreaterThanOrEqualTo(count));
    }

    private static void runConcurrently(int threads, ThrowingRunnable body) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                futures.add(pool.submit(() -> {
                    start.await();
                    body.run(id);
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
            assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).as("worker threads ended").isTrue();
        }
    }

    @FunctionalInterface
    protected interface ThrowingRunnable {
        void run(int thread) throws Exception;
    }

    // =========================================================================================
    // validation: bad input is refused before anything is written
    // =========================================================================================

    @Test
    void illegalNamesAreRefusedWithClearErrors() {
        long before = registry.currentSequence();
        assertThatThrownBy(() -> RegistryPath.parse("a//b")).isInstanceOf(RegistryArgumentException.class).hasMessageContaining("empty");
        assertThatThrownBy(() -> RegistryPath.of("a\\b")).isInstanceOf(RegistryArgumentException.class).hasMessageContaining("'\\'");
        assertThatThrownBy(() -> RegistryPath.of("a", "b/c")).isInstanceOf(RegistryArgumentException.class).hasMessageContaining("'/'");
        assertThatThrownBy(() -> RegistryPath.of("tab\there")).isInstanceOf(RegistryArgumentException.class).hasMessageContaining("U+0009");
        assertThatThrownBy(() -> RegistryPath.of("nul\0")).isInstanceOf(RegistryArgumentException.class).hasMessageContaining("U+0000");
        assertThatThrownBy(() -> RegistryPath.of("x".repeat(256)))
                .isInstanceOfSatisfying(RegistryLimitException.class, e -> {
                    assertThat(e.size()).isEqualTo(256);
                    assertThat(e.limit()).isEqualTo(255);
                }).hasMessageContaining("256").hasMessageContaining("255");
        assertThatThrownBy(() -> new BatchCommand.SetValue(p("k"), "", sz("v"))).isInstanceOf(RegistryArgumentException.class).hasMessageContaining("value name");
        assertThatThrownBy(() -> new BatchCommand.SetValue(p("k"), "a\\b", sz("v"))).isInstanceOf(RegistryArgumentException.class);
        assertThatThrownBy(() -> new BatchCommand.DeleteValue(p("k"), "x".repeat(256))).isInstanceOf(RegistryLimitException.class);
        assertThatThrownBy(() -> new BatchCommand.ValueExists(p("k"), null)).isInstanceOf(RegistryArgumentException.class);
        assertThatThrownBy(() -> new BatchCommand.CreateKey(RegistryPath.root())).isInstanceOf(RegistryArgumentException.class).hasMessageContaining("root");
        assertThatThrownBy(() -> new BatchCommand.DeleteKey(RegistryPath.root())).isInstanceOf(RegistryArgumentException.class).hasMessageContaining("root");
        assertThatThrownBy(() -> new BatchCommand.RevisionEquals(p("k"), "v", 0)).isInstanceOf(RegistryArgumentException.class).hasMessageContaining("positive");
        assertThatThrownBy(() -> WriteBatch.builder().build()).isInstanceOf(RegistryArgumentException.class).hasMessageContaining("at least one");
        assertThatThrownBy(() -> new HealthFault("bad/id", 1, 2, "d", "p", 0)).isInstanceOf(RegistryArgumentException.class);
        assertEmptyAndUnchanged(before);
    }

    @Test
    void tooDeepOrTooLongPathsAreRefusedWithTheLimit() {
        long before = registry.currentSequence();
        List<String> deep = Collections.nCopies(RegistryPath.MAX_DEPTH + 1, "d");
        assertThatThrownBy(() -> RegistryPath.of(deep))
                .isInstanceOfSatisfying(RegistryLimitException.class, e -> assertThat(e.limit()).isEqualTo(RegistryPath.MAX_DEPTH))
                .hasMessageContaining("33").hasMessageContaining("32");
        RegistryPath deepest = RegistryPath.of(Collections.nCopies(RegistryPath.MAX_DEPTH, "d"));
        assertThatThrownBy(() -> deepest.child("one-more")).isInstanceOf(RegistryLimitException.class);
        String s255 = "s".repeat(255);
        assertThatThrownBy(() -> RegistryPath.of(s255, s255, s255, s255, "xx"))
                .isInstanceOfSatisfying(RegistryLimitException.class, e -> {
                    assertThat(e.size()).isEqualTo(1026);
                    assertThat(e.limit()).isEqualTo(RegistryPath.MAX_PATH_LENGTH);
                }).hasMessageContaining("1024");
        assertEmptyAndUnchanged(before);
    }

    @Test
    void oversizedValuesAndBadEncodingsAreRefused() {
        long before = registry.currentSequence();
        assertThatThrownBy(() -> RegistryValue.binary(new byte[RegistryValue.MAX_SIZE + 1]))
                .isInstanceOfSatisfying(RegistryLimitException.class, e -> {
                    assertThat(e.size()).isEqualTo(RegistryValue.MAX_SIZE + 1);
                    assertThat(e.limit()).isEqualTo(RegistryValue.MAX_SIZE);
                }).hasMessageContaining("1048577");
        assertThatThrownBy(() -> RegistryValue.of(ValueType.SZ, new byte[RegistryValue.MAX_SIZE + 2])).isInstanceOf(RegistryLimitException.class);
        assertThatThrownBy(() -> RegistryValue.sz("x".repeat(RegistryValue.MAX_SIZE / 2))).isInstanceOf(RegistryLimitException.class);
        assertThatThrownBy(() -> RegistryValue.of(ValueType.DWORD, new byte[3])).isInstanceOf(RegistryArgumentException.class).hasMessageContaining("4 bytes");
        assertThatThrownBy(() -> RegistryValue.of(ValueType.QWORD, new byte[4])).isInstanceOf(RegistryArgumentException.class).hasMessageContaining("8 bytes");
        assertThatThrownBy(() -> RegistryValue.of(ValueType.SZ, new byte[] {'a', 0, 'b'})).isInstanceOf(RegistryArgumentException.class).hasMessageContaining("SZ");
        assertThatThrownBy(() -> RegistryValue.of(ValueType.SZ, new byte[] {'a', 0})).isInstanceOf(RegistryArgumentException.class).hasMessageContaining("NUL");
        assertThatThrownBy(() -> RegistryValue.of(ValueType.MULTI_SZ, new byte[0])).isInstanceOf(RegistryArgumentException.class).hasMessageContaining("MULTI_SZ");
        assertThatThrownBy(() -> RegistryValue.sz("a\0b")).isInstanceOf(RegistryArgumentException.class).hasMessageContaining("NUL");
        assertThatThrownBy(() -> RegistryValue.multiSz(List.of("a", ""))).isInstanceOf(RegistryArgumentException.class).hasMessageContaining("entry 1");
        assertThatThrownBy(() -> ValueType.fromWindowsCode(2)).isInstanceOf(RegistryArgumentException.class).hasMessageContaining("2");
        assertThatThrownBy(() -> RegistryValue.dword(1).asSz()).isInstanceOf(RegistryArgumentException.class).hasMessageContaining("DWORD");
        assertEmptyAndUnchanged(before);
    }

    @Test
    void limitsAreThoseOfTheContract() {
        RegistryLimits limits = registry.limits();
        assertThat(limits.maxValueSize()).isEqualTo(RegistryValue.MAX_SIZE);
        // one value of the largest size must fit in a batch
        assertThat(limits.maxBatchBytes()).isGreaterThanOrEqualTo(RegistryValue.MAX_SIZE + 2L * (RegistryPath.MAX_PATH_LENGTH + 255) + WriteBatch.COMMAND_OVERHEAD);
        assertThat(limits.maxBatchCommands()).isGreaterThanOrEqualTo(64);
    }

    @Test
    void aBatchOverMaxBatchBytesIsRefusedAndNothingApplied() {
        set("pre", "v", RegistryValue.dword(7));
        long before = registry.currentSequence();
        long maxBytes = registry.limits().maxBatchBytes();
        RegistryValue big = RegistryValue.binary(new byte[RegistryValue.MAX_SIZE]);
        long perCommand = big.size() + WriteBatch.COMMAND_OVERHEAD + 2L * ("big".length() + 4);
        long needed = maxBytes / perCommand + 1;
        assumeTrue(needed <= registry.limits().maxBatchCommands(), "max batch bytes cannot be exceeded within max batch commands");
        WriteBatch.Builder b = WriteBatch.builder().deleteKey(p("pre"));
        for (int i = 0; i < needed; i++) {
            b.setValue(p("big"), "v" + i, big);
        }
        WriteBatch batch = b.build();
        assertThat(batch.encodedSize()).isGreaterThan(maxBytes);
        assertThatThrownBy(() -> registry.commit(batch))
                .isInstanceOfSatisfying(RegistryLimitException.class, e -> {
                    assertThat(e.size()).isEqualTo(batch.encodedSize());
                    assertThat(e.limit()).isEqualTo(maxBytes);
                }).hasMessageContaining(String.valueOf(maxBytes));
        assertThatThrownBy(() -> registry.commitAsync(batch)).isInstanceOf(RegistryLimitException.class);
        assertThat(registry.currentSequence()).isEqualTo(before);
        assertThat(registry.keyExists(p("big"))).isFalse();
        assertThat(registry.getValue(p("pre"), "v")).isPresent();
    }

    @Test
    void aBatchOverMaxBatchCommandsIsRefusedAndNothingApplied() {
        int max = registry.limits().maxBatchCommands();
        assumeTrue(max <= 100_000, "command limit too large to exceed in a test");
        long before = registry.currentSequence();
        WriteBatch.Builder b = WriteBatch.builder();
        for (int i = 0; i <= max; i++) {
            b.createKey(p("many/k" + i));
        }
        WriteBatch batch = b.build();
        assertThatThrownBy(() -> registry.commit(batch)).isInstanceOf(RegistryLimitException.class).hasMessageContaining(String.valueOf(max));
        assertEmptyAndUnchanged(before);
    }

    @Test
    void conditionsOnMissingKeysFailCleanlyAndChangeNothing() {
        long before = registry.currentSequence();
        assertConditionFails(new BatchCommand.ValueExists(p("no/such/key"), "v"));
        assertConditionFails(new BatchCommand.ValueEquals(p("no/such/key"), "v", sz("x")));
        assertConditionFails(new BatchCommand.RevisionEquals(p("no/such/key"), "v", 1));
        assertConditionFails(new BatchCommand.KeyExists(p("no/such")));
        assertConditionHolds(new BatchCommand.ValueAbsent(p("no/such/key"), "v"));
        assertConditionHolds(new BatchCommand.KeyAbsent(p("no/such")));
        assertThat(registry.keyExists(p("no"))).isFalse();
        assertThat(registry.currentSequence()).isGreaterThanOrEqualTo(before);
    }

    // =========================================================================================
    // values and keys
    // =========================================================================================

    @Test
    void valuesOfEveryTypeRoundTrip() {
        RegistryValue bin = RegistryValue.binary(new byte[] {0, 1, 2, (byte) 0xff});
        RegistryValue empty = RegistryValue.binary(new byte[0]);
        RegistryValue dword = RegistryValue.dword(0xCAFEBABE);
        RegistryValue qword = RegistryValue.qword(Long.MIN_VALUE + 12345);
        RegistryValue text = sz("héllo wörld ✓ 鍵 \uD83D\uDE00");
        RegistryValue emptyText = sz("");
        RegistryValue list = RegistryValue.multiSz(List.of("one", "twö", "три"));
        RegistryValue emptyList = RegistryValue.multiSz(List.of());
        CommitResult r = commit(WriteBatch.builder()
                .setValue(p("t"), "bin", bin).setValue(p("t"), "empty", empty).setValue(p("t"), "dword", dword)
                .setValue(p("t"), "qword", qword).setValue(p("t"), "sz", text).setValue(p("t"), "emptySz", emptyText)
                .setValue(p("t"), "multi", list).setValue(p("t"), "emptyMulti", emptyList));
        Map<String, RegistryValue> expected = Map.of("bin", bin, "empty", empty, "dword", dword, "qword", qword,
                "sz", text, "emptySz", emptyText, "multi", list, "emptyMulti", emptyList);
        expected.forEach((name, v) -> {
            VersionedValue got = registry.getValue(p("t"), name).orElseThrow(() -> new AssertionError("value " + name + " missing"));
            assertThat(got.value()).as(name).isEqualTo(v);
            assertThat(got.value().type()).as(name).isEqualTo(v.type());
            assertThat(got.value().data()).as(name).isEqualTo(v.data());
            assertThat(got.revision()).as(name).isEqualTo(r.sequence());
        });
        assertThat(registry.getValue(p("t"), "bin").orElseThrow().value().asBinary()).containsExactly(0, 1, 2, 0xff);
        assertThat(registry.getValue(p("t"), "dword").orElseThrow().value().asDword()).isEqualTo(0xCAFEBABE);
        assertThat(registry.getValue(p("t"), "qword").orElseThrow().value().asQword()).isEqualTo(Long.MIN_VALUE + 12345);
        assertThat(registry.getValue(p("t"), "sz").orElseThrow().value().asSz()).isEqualTo("héllo wörld ✓ 鍵 \uD83D\uDE00");
        assertThat(registry.getValue(p("t"), "emptySz").orElseThrow().value().asSz()).isEmpty();
        assertThat(registry.getValue(p("t"), "multi").orElseThrow().value().asMultiSz()).containsExactly("one", "twö", "три");
        assertThat(registry.getValue(p("t"), "emptyMulti").orElseThrow().value().asMultiSz()).isEmpty();
        assertThat(registry.values(p("t"))).containsOnlyKeys(expected.keySet());
    }

    @Test
    void aValueOfTheLargestSizeRoundTrips() {
        byte[] data = new byte[RegistryValue.MAX_SIZE];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 31 + (i >>> 11));
        }
        set("big", "v", RegistryValue.binary(data));
        assertThat(registry.getValue(p("big"), "v").orElseThrow().value().data()).isEqualTo(data);
    }

    @Test
    void replacingAValueChangesTypeAndRevision() {
        CommitResult first = set("k", "v", RegistryValue.dword(1));
        CommitResult second = set("k", "v", sz("now a string"));
        VersionedValue got = registry.getValue(p("k"), "v").orElseThrow();
        assertThat(got.value()).isEqualTo(sz("now a string"));
        assertThat(got.revision()).isEqualTo(second.sequence()).isGreaterThan(first.sequence());
        assertThat(registry.values(p("k"))).hasSize(1);
    }

    @Test
    void unusualButLegalNamesWork() {
        List<String> names = new ArrayList<>(List.of(".", "..", "zookeeper", "with space", " lead", "ünïcødé-鍵",
                "emoji\uD83D\uDE00", "a:b", "*", "?", "%2F", "x".repeat(255), "CON", "-", "_"));
        WriteBatch.Builder b = WriteBatch.builder();
        for (String n : names) {
            b.createKey(RegistryPath.of("odd", n));
            b.setValue(p("odd"), n, sz(n));
            b.setValue(RegistryPath.of("odd", n), n, RegistryValue.dword(n.length()));
        }
        commit(b);
        Collections.sort(names);
        assertThat(registry.subkeys(p("odd"))).containsExactlyElementsOf(names);
        assertThat(registry.values(p("odd")).keySet()).containsExactlyElementsOf(names);
        for (String n : names) {
            assertThat(registry.getValue(p("odd"), n).orElseThrow().value().asSz()).isEqualTo(n);
            assertThat(registry.getValue(RegistryPath.of("odd", n), n).orElseThrow().value().asDword()).isEqualTo(n.length());
            assertThat(registry.subkeys(RegistryPath.of("odd", n))).isEmpty();
        }
        // the limits themselves are legal
        RegistryPath deepest = RegistryPath.of(Collections.nCopies(RegistryPath.MAX_DEPTH, "d"));
        String s255 = "s".repeat(255);
        RegistryPath longest = RegistryPath.of(s255, s255, s255, "s".repeat(254), "x");
        assertThat(longest.length()).isEqualTo(RegistryPath.MAX_PATH_LENGTH);
        commit(WriteBatch.builder().setValue(deepest, "v", RegistryValue.dword(32)).setValue(longest, "v", RegistryValue.dword(1024)));
        assertThat(registry.getValue(deepest, "v").orElseThrow().value().asDword()).isEqualTo(32);
        assertThat(registry.getValue(longest, "v").orElseThrow().value().asDword()).isEqualTo(1024);
    }

    @Test
    void subkeysAndValuesAreListedSortedAndMissingKeysAreReported() {
        commit(WriteBatch.builder()
                .createKey(p("p/charlie")).createKey(p("p/alpha")).createKey(p("p/bravo/deep"))
                .setValue(p("p"), "zulu", RegistryValue.dword(1)).setValue(p("p"), "yankee", RegistryValue.dword(2))
                .setValue(p("p"), "x-ray", RegistryValue.dword(3)));
        assertThat(registry.subkeys(p("p"))).containsExactly("alpha", "bravo", "charlie");
        assertThat(registry.subkeys(p("p/bravo"))).containsExactly("deep");
        assertThat(registry.subkeys(RegistryPath.root())).containsExactly("p");
        assertThat(new ArrayList<>(registry.values(p("p")).keySet())).containsExactly("x-ray", "yankee", "zulu");
        assertThat(registry.values(p("p/alpha"))).isEmpty();
        assertThat(registry.keyExists(p("p/bravo/deep"))).isTrue();
        assertThat(registry.keyExists(RegistryPath.root())).isTrue();
        assertThat(registry.keyExists(p("p/delta"))).isFalse();
        assertThatThrownBy(() -> registry.subkeys(p("p/delta")))
                .isInstanceOfSatisfying(NoSuchKeyException.class, e -> assertThat(e.key()).isEqualTo(p("p/delta")))
                .hasMessageContaining("p/delta");
        assertThatThrownBy(() -> registry.values(p("nothing/here"))).isInstanceOf(NoSuchKeyException.class).hasMessageContaining("nothing/here");
        assertThat(registry.getValue(p("p/delta"), "v")).isEmpty();
        assertThat(registry.getValue(p("p"), "missing")).isEmpty();
        assertThatThrownBy(() -> registry.subkeys(p("p")).add("intruder")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void createKeyAndSetValueCreateMissingAncestors() {
        commit(WriteBatch.builder().createKey(p("a/b/c")).setValue(p("x/y/z"), "v", RegistryValue.dword(1)));
        assertThat(registry.keyExists(p("a"))).isTrue();
        assertThat(registry.keyExists(p("a/b"))).isTrue();
        assertThat(registry.keyExists(p("a/b/c"))).isTrue();
        assertThat(registry.subkeys(p("x/y"))).containsExactly("z");
        // creating an existing key changes nothing
        Map<String, VersionedValue> before = dump(registry);
        commit(WriteBatch.builder().createKey(p("x/y")));
        assertThat(dump(registry)).isEqualTo(before);
    }

    @Test
    void deleteKeyIsRecursiveAndDeletesAreNoOpsWhenMissing() {
        commit(WriteBatch.builder()
                .setValue(p("a"), "top", RegistryValue.dword(1)).setValue(p("a/b"), "mid", RegistryValue.dword(2))
                .setValue(p("a/b/c/d"), "leaf", RegistryValue.dword(3)).createKey(p("a/e")).setValue(p("keep"), "v", RegistryValue.dword(4)));
        commit(WriteBatch.builder().deleteKey(p("a")));
        assertThat(registry.keyExists(p("a"))).isFalse();
        assertThat(registry.keyExists(p("a/b/c/d"))).isFalse();
        assertThat(registry.getValue(p("a/b/c/d"), "leaf")).isEmpty();
        assertThat(registry.subkeys(RegistryPath.root())).containsExactly("keep");
        // deleting what is not there succeeds and changes nothing
        Map<String, VersionedValue> before = dump(registry);
        commit(WriteBatch.builder().deleteKey(p("a")).deleteKey(p("never/was")).deleteValue(p("keep"), "nope").deleteValue(p("no/key"), "v"));
        assertThat(dump(registry)).isEqualTo(before);
        // a re-created key starts empty
        commit(WriteBatch.builder().createKey(p("a")));
        assertThat(registry.subkeys(p("a"))).isEmpty();
        assertThat(registry.values(p("a"))).isEmpty();
    }

    @Test
    void deleteValueRemovesOnlyThatValue() {
        commit(WriteBatch.builder().setValue(p("k"), "a", RegistryValue.dword(1)).setValue(p("k"), "b", RegistryValue.dword(2)));
        commit(WriteBatch.builder().deleteValue(p("k"), "a"));
        assertThat(registry.values(p("k"))).containsOnlyKeys("b");
        assertThat(registry.keyExists(p("k"))).isTrue();
    }

    // =========================================================================================
    // batches, conditions, revisions
    // =========================================================================================

    @Test
    void aFailingConditionAnywhereAppliesNothingAndNamesItsIndex() {
        set("k", "existing", RegistryValue.dword(1));
        Map<String, VersionedValue> before = dump(registry);
        long sequenceBefore = registry.currentSequence();
        BatchCommand failing = new BatchCommand.ValueExists(p("k"), "missing");
        WriteBatch batch = WriteBatch.builder()
                .setValue(p("k"), "x", RegistryValue.dword(10))
                .deleteValue(p("k"), "existing")
                .createKey(p("new/key"))
                .add(failing)
                .setValue(p("k"), "y", RegistryValue.dword(11))
                .build();
        assertThatThrownBy(() -> registry.commit(batch))
                .isInstanceOfSatisfying(ConditionFailedException.class, e -> {
                    assertThat(e.failedCommandIndex()).isEqualTo(3);
                    assertThat(e.failedCommand()).isEqualTo(failing);
                }).hasMessageContaining("3");
        assertThat(dump(registry)).isEqualTo(before);
        assertThat(registry.currentSequence()).isEqualTo(sequenceBefore);
        // the first condition of a batch is index 0, the last is size-1
        assertThatThrownBy(() -> registry.commit(WriteBatch.builder().requireKeyAbsent(p("k")).setValue(p("z"), "v", RegistryValue.dword(1)).build()))
                .isInstanceOfSatisfying(ConditionFailedException.class, e -> assertThat(e.failedCommandIndex()).isZero());
        assertThatThrownBy(() -> registry.commit(WriteBatch.builder().setValue(p("z"), "v", RegistryValue.dword(1)).requireKeyAbsent(p("k")).build()))
                .isInstanceOfSatisfying(ConditionFailedException.class, e -> assertThat(e.failedCommandIndex()).isEqualTo(1));
        assertThat(registry.keyExists(p("z"))).isFalse();
    }

    @Test
    void everyConditionTypeHoldsOrFailsAsSpecified() {
        CommitResult r = commit(WriteBatch.builder().setValue(p("c"), "v", sz("value")).setValue(p("c"), "bin", RegistryValue.binary(new byte[] {'v', 0, 0, 0})));
        long rev = r.sequence();
        assertConditionHolds(new BatchCommand.ValueExists(p("c"), "v"));
        assertConditionFails(new BatchCommand.ValueExists(p("c"), "w"));
        assertConditionHolds(new BatchCommand.ValueAbsent(p("c"), "w"));
        assertConditionFails(new BatchCommand.ValueAbsent(p("c"), "v"));
        assertConditionHolds(new BatchCommand.ValueEquals(p("c"), "v", sz("value")));
        assertConditionFails(new BatchCommand.ValueEquals(p("c"), "v", sz("other")));
        assertConditionFails(new BatchCommand.ValueEquals(p("c"), "w", sz("value")));
        // same bytes, different type: not equal
        assertConditionHolds(new BatchCommand.ValueEquals(p("c"), "bin", RegistryValue.binary(new byte[] {'v', 0, 0, 0})));
        assertConditionFails(new BatchCommand.ValueEquals(p("c"), "bin", RegistryValue.of(ValueType.SZ, new byte[] {'v', 0, 0, 0})));
        assertConditionHolds(new BatchCommand.RevisionEquals(p("c"), "v", rev));
        assertConditionFails(new BatchCommand.RevisionEquals(p("c"), "v", rev + 1000));
        assertConditionFails(new BatchCommand.RevisionEquals(p("c"), "w", rev));
        assertConditionHolds(new BatchCommand.KeyExists(p("c")));
        assertConditionHolds(new BatchCommand.KeyExists(RegistryPath.root()));
        assertConditionFails(new BatchCommand.KeyExists(p("d")));
        assertConditionHolds(new BatchCommand.KeyAbsent(p("d")));
        assertConditionFails(new BatchCommand.KeyAbsent(p("c")));
        assertConditionFails(new BatchCommand.KeyAbsent(RegistryPath.root()));
    }

    @Test
    void conditionsSeeTheEffectsOfEarlierCommandsOfTheSameBatch() {
        CommitResult r = commit(WriteBatch.builder()
                .requireValueAbsent(p("s"), "v")
                .setValue(p("s"), "v", sz("first"))
                .requireValueExists(p("s"), "v")
                .requireValueEquals(p("s"), "v", sz("first"))
                .setValue(p("s"), "v", sz("second"))
                .requireValueEquals(p("s"), "v", sz("second"))
                .deleteValue(p("s"), "v")
                .requireValueAbsent(p("s"), "v")
                .requireKeyAbsent(p("s/k"))
                .createKey(p("s/k/deeper"))
                .requireKeyExists(p("s/k"))
                .deleteKey(p("s/k"))
                .requireKeyAbsent(p("s/k/deeper"))
                .setValue(p("s"), "final", sz("done")));
        assertThat(registry.getValue(p("s"), "v")).isEmpty();
        assertThat(registry.keyExists(p("s/k"))).isFalse();
        assertThat(registry.getValue(p("s"), "final").orElseThrow().revision()).isEqualTo(r.sequence());
        // a revision condition after a set in the same batch sees the batch's own revision
        long next = registry.currentSequence();
        assertThatThrownBy(() -> registry.commit(WriteBatch.builder().deleteKey(p("s")).requireValueExists(p("s"), "final").build()))
                .isInstanceOfSatisfying(ConditionFailedException.class, e -> assertThat(e.failedCommandIndex()).isEqualTo(1));
        assertThat(registry.getValue(p("s"), "final")).isPresent();
        assertThat(registry.currentSequence()).isEqualTo(next);
    }

    @Test
    void revisionsEqualTheCommitSequenceAndStrictlyIncrease() {
        long start = registry.currentSequence();
        long previous = start;
        for (int i = 0; i < 10; i++) {
            CommitResult r = commit(WriteBatch.builder().setValue(p("r"), "a", RegistryValue.dword(i)).setValue(p("r/sub"), "b", RegistryValue.dword(i)));
            assertThat(r.sequence()).isGreaterThan(previous);
            assertThat(registry.currentSequence()).isGreaterThanOrEqualTo(r.sequence());
            assertThat(registry.getValue(p("r"), "a").orElseThrow().revision()).isEqualTo(r.sequence());
            assertThat(registry.getValue(p("r/sub"), "b").orElseThrow().revision()).isEqualTo(r.sequence());
            previous = r.sequence();
        }
        // a value the batch did not touch keeps its revision
        CommitResult other = set("r", "c", RegistryValue.dword(99));
        assertThat(registry.getValue(p("r"), "a").orElseThrow().revision()).isEqualTo(previous).isLessThan(other.sequence());
    }

    @Test
    void aRevisionNeverRepeatsAcrossDeleteAndRecreate() {
        Set<Long> seen = new java.util.HashSet<>();
        for (int i = 0; i < 5; i++) {
            long rev = set("again/k", "v", RegistryValue.dword(1)).sequence();
            assertThat(registry.getValue(p("again/k"), "v").orElseThrow().revision()).isEqualTo(rev);
            assertThat(seen.add(rev)).as("revision %d given twice", rev).isTrue();
            if (i % 2 == 0) {
                commit(WriteBatch.builder().deleteValue(p("again/k"), "v"));
            } else {
                commit(WriteBatch.builder().deleteKey(p("again")));
            }
        }
        // an old revision no longer matches the re-created value
        long old = seen.iterator().next();
        set("again/k", "v", RegistryValue.dword(1));
        assertConditionFails(new BatchCommand.RevisionEquals(p("again/k"), "v", old));
    }

    @Test
    void aBatchThatChangesNothingDoesNotMoveTheFeedOrRevisions() {
        CommitResult first = set("n", "v", RegistryValue.dword(1));
        FeedRecorder rec = new FeedRecorder();
        try (Watch w = registry.watch(RegistryPath.root(), rec)) {
            CommitResult onlyConditions = commit(WriteBatch.builder().requireValueExists(p("n"), "v").requireKeyAbsent(p("m")));
            CommitResult noOps = commit(WriteBatch.builder().deleteValue(p("n"), "absent").deleteKey(p("m")).createKey(p("n")));
            assertThat(onlyConditions.sequence()).isGreaterThanOrEqualTo(first.sequence()).isLessThanOrEqualTo(registry.currentSequence());
            assertThat(noOps.sequence()).isGreaterThanOrEqualTo(onlyConditions.sequence()).isLessThanOrEqualTo(registry.currentSequence());
            assertThat(registry.getValue(p("n"), "v").orElseThrow().revision()).isEqualTo(first.sequence());
            CommitResult last = set("n", "w", RegistryValue.dword(2));
            assertThat(last.sequence()).isGreaterThan(noOps.sequence());
            awaitBatches(rec, 1);
            assertThat(rec.sequences()).containsExactly(last.sequence());
        }
    }

    @Test
    void optimisticUpdatesFromManyThreadsLoseNothing() throws Exception {
        set("counter", "n", RegistryValue.qword(0));
        int threads = 4;
        int increments = 25;
        AtomicInteger conflicts = new AtomicInteger();
        // every thread reads the first value before any commits: the race is certain, not left to scheduling
        java.util.concurrent.CyclicBarrier allRead = new java.util.concurrent.CyclicBarrier(threads);
        runConcurrently(threads, t -> {
            for (int i = 0; i < increments; i++) {
                boolean first = i == 0;
                while (true) {
                    VersionedValue current = registry.getValue(p("counter"), "n").orElseThrow();
                    if (first) {
                        first = false;
                        allRead.await(feedTimeout().toMillis(), TimeUnit.MILLISECONDS);
                    }
                    try {
                        registry.commit(WriteBatch.builder()
                                .requireRevision(p("counter"), "n", current.revision())
                                .setValue(p("counter"), "n", RegistryValue.qword(current.value().asQword() + 1)).build());
                        break;
                    } catch (ConditionFailedException e) {
                        conflicts.incrementAndGet();
                    }
                }
            }
        });
        assertThat(registry.getValue(p("counter"), "n").orElseThrow().value().asQword()).isEqualTo((long) threads * increments);
        assertThat(conflicts.get()).as("conditions that found another thread's commit").isGreaterThanOrEqualTo(threads - 1);
    }

    /** Read-your-writes: once commit() returns, the committing thread's next read sees the batch, also under group commit. */
    @Test
    void aCommittedBatchIsVisibleToTheCommittersNextRead() throws Exception {
        int threads = 4;
        int commits = 40;
        runConcurrently(threads, t -> {
            for (int i = 1; i <= commits; i++) {
                CommitResult c = registry.commit(WriteBatch.builder().setValue(p("ryw/" + t), "n", RegistryValue.qword(i)).build());
                assertThat(registry.getValue(p("ryw/" + t), "n"))
                        .as("thread %d read right after its commit %d", t, i)
                        .contains(new VersionedValue(RegistryValue.qword(i), c.sequence()));
                assertThat(registry.currentSequence()).isGreaterThanOrEqualTo(c.sequence());
            }
        });
    }

    // =========================================================================================
    // read batches
    // =========================================================================================

    @Test
    void aReadBatchAnswersEveryKindOfRead() {
        CommitResult r = commit(WriteBatch.builder().setValue(p("rb/a"), "x", RegistryValue.dword(1)).setValue(p("rb/a"), "y", RegistryValue.dword(2))
                .createKey(p("rb/a/child2")).createKey(p("rb/a/child1")));
        ReadBatchResult res = registry.read(ReadBatch.of(
                new ReadBatch.ValueRead(p("rb/a"), "x"),
                new ReadBatch.ValueRead(p("rb/a"), "missing"),
                new ReadBatch.ValueRead(p("rb/none"), "x"),
                new ReadBatch.ValuesRead(p("rb/a")),
                new ReadBatch.ValuesRead(p("rb/none")),
                new ReadBatch.SubkeysRead(p("rb/a")),
                new ReadBatch.SubkeysRead(p("rb/none"))));
        assertThat(res.size()).isEqualTo(7);
        assertThat(res.sequence()).isGreaterThanOrEqualTo(r.sequence());
        assertThat(res.value(0)).contains(new VersionedValue(RegistryValue.dword(1), r.sequence()));
        assertThat(res.value(1)).isEmpty();
        assertThat(res.value(2)).isEmpty();
        assertThat(res.values(3).orElseThrow()).containsOnlyKeys("x", "y");
        assertThat(new ArrayList<>(res.values(3).orElseThrow().keySet())).containsExactly("x", "y");
        assertThat(res.values(4)).isEmpty();
        assertThat(res.subkeys(5).orElseThrow()).containsExactly("child1", "child2");
        assertThat(res.subkeys(6)).isEmpty();
    }

    @Test
    void aReadBatchNeverSeesHalfOfAWriteBatch() throws Exception {
        int writers = 2;
        int writesEach = 120;
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicInteger writersLeft = new AtomicInteger(writers);
        AtomicInteger readsChecked = new AtomicInteger();
        List<String> problems = new CopyOnWriteArrayList<>();
        runConcurrently(writers + 2, t -> {
            if (t < writers) {
                try {
                    for (int i = 0; i < writesEach; i++) {
                        long v = t * 1_000_000L + i;
                        registry.commit(WriteBatch.builder()
                                .setValue(p("pair/left"), "v", RegistryValue.qword(v))
                                .setValue(p("pair/right"), "v", RegistryValue.qword(v))
                                .deleteKey(p("pair/right/n" + ((i + 1) % 3)))
                                .deleteKey(p("pair/right/n" + ((i + 2) % 3)))
                                .setValue(p("pair/right/n" + (i % 3)), "v", RegistryValue.qword(v)).build());
                    }
                } finally {
                    if (writersLeft.decrementAndGet() == 0) {
                        writing.set(false);
                    }
                }
            } else {
                long lastSequence = 0;
                while (writing.get() || readsChecked.get() < 20) {
                    // every other batch reads values only (backends may date such a batch differently)
                    boolean valuesOnly = readsChecked.get() % 2 == 1;
                    ReadBatchResult r = valuesOnly
                            ? registry.read(ReadBatch.of(new ReadBatch.ValueRead(p("pair/left"), "v"), new ReadBatch.ValueRead(p("pair/right"), "v")))
                            : registry.read(ReadBatch.of(new ReadBatch.ValueRead(p("pair/left"), "v"),
                            new ReadBatch.ValueRead(p("pair/right"), "v"), new ReadBatch.SubkeysRead(p("pair/right"))));
                    Optional<VersionedValue> left = r.value(0);
                    Optional<VersionedValue> right = r.value(1);
                    if (left.isPresent() != right.isPresent()) {
                        problems.add("one side present: " + left + " / " + right);
                    } else if (left.isPresent()) {
                        if (!left.get().equals(right.get())) {
                            problems.add("halves differ at sequence " + r.sequence() + ": " + left.get().revision() + " / " + right.get().revision());
                        }
                        if (left.get().revision() > r.sequence()) {
                            problems.add("revision " + left.get().revision() + " newer than the read's sequence " + r.sequence());
                        }
                        List<String> subs = valuesOnly ? List.of("n") : r.subkeys(2).orElse(List.of());
                        if (subs.size() != 1) {
                            problems.add("expected exactly one of n0..n2 below pair/right, saw " + subs);
                        }
                    }
                    if (r.sequence() < lastSequence) {
                        problems.add("read sequence went back from " + lastSequence + " to " + r.sequence());
                    }
                    lastSequence = r.sequence();
                    readsChecked.incrementAndGet();
                }
            }
        });
        assertThat(problems).isEmpty();
        assertThat(readsChecked.get()).isGreaterThanOrEqualTo(40);
    }

    @Test
    void readsAfterACommitSeeIt() {
        for (int i = 0; i < 20; i++) {
            CommitResult r = set("ryw", "v", RegistryValue.dword(i));
            assertThat(registry.getValue(p("ryw"), "v").orElseThrow().value().asDword()).isEqualTo(i);
            assertThat(registry.currentSequence()).isGreaterThanOrEqualTo(r.sequence());
            assertThat(registry.read(ReadBatch.of(new ReadBatch.ValueRead(p("ryw"), "v"))).sequence()).isGreaterThanOrEqualTo(r.sequence());
        }
    }

    // =========================================================================================
    // asynchronous commits
    // =========================================================================================

    @Test
    void asyncCommitsCompleteAndAreOrderedBehindEachOther() {
        List<CompletableFuture<CommitResult>> futures = new ArrayList<>();
        futures.add(registry.commitAsync(WriteBatch.builder().setValue(p("async"), "v", RegistryValue.dword(0)).build()));
        for (int i = 1; i < 20; i++) {
            // each batch requires the previous one's effect: async batches from one thread apply in order
            futures.add(registry.commitAsync(WriteBatch.builder()
                    .requireValueEquals(p("async"), "v", RegistryValue.dword(i - 1))
                    .setValue(p("async"), "v", RegistryValue.dword(i)).build()));
        }
        long previous = 0;
        for (CompletableFuture<CommitResult> f : futures) {
            CommitResult r = f.orTimeout(feedTimeout().toMillis(), TimeUnit.MILLISECONDS).join();
            assertThat(r.sequence()).isGreaterThan(previous);
            previous = r.sequence();
        }
        VersionedValue v = registry.getValue(p("async"), "v").orElseThrow();
        assertThat(v.value().asDword()).isEqualTo(19);
        assertThat(v.revision()).isEqualTo(previous);
    }

    @Test
    void aFailedAsyncConditionCompletesTheFutureExceptionally() {
        BatchCommand failing = new BatchCommand.KeyExists(p("absent"));
        CompletableFuture<CommitResult> f = registry.commitAsync(WriteBatch.builder()
                .setValue(p("x"), "v", RegistryValue.dword(1)).add(failing).build());
        Throwable t = catchThrowable(() -> f.orTimeout(feedTimeout().toMillis(), TimeUnit.MILLISECONDS).join());
        assertThat(t).isInstanceOf(CompletionException.class);
        assertThat(t.getCause()).isInstanceOfSatisfying(ConditionFailedException.class, e -> assertThat(e.failedCommandIndex()).isEqualTo(1));
        assertThat(registry.keyExists(p("x"))).isFalse();
    }

    /**
     * {@code syncCommitAsync} is {@code commit} answered through a future: its answer means visible
     * to the next read (read-your-writes), batches of one thread apply in call order, and a false
     * condition or a limit fails as {@code commit} fails.
     */
    @Test
    void aSyncCommitAnsweredByAFutureIsVisibleWhenAnsweredAndFailsAsCommitFails() throws Exception {
        java.util.concurrent.ExecutorService answers = java.util.concurrent.Executors.newSingleThreadExecutor(r -> new Thread(r, "conformance-answers"));
        try {
            List<CompletableFuture<CommitResult>> futures = new ArrayList<>();
            futures.add(registry.syncCommitAsync(WriteBatch.builder().setValue(p("syncAsync"), "v", RegistryValue.dword(0)).build(), answers));
            for (int i = 1; i < 10; i++) {
                futures.add(registry.syncCommitAsync(WriteBatch.builder()
                        .requireValueEquals(p("syncAsync"), "v", RegistryValue.dword(i - 1))
                        .setValue(p("syncAsync"), "v", RegistryValue.dword(i)).build(), answers));
            }
            long previous = 0;
            for (int i = 0; i < futures.size(); i++) {
                int expected = i;
                CommitResult r = futures.get(i).orTimeout(feedTimeout().toMillis(), TimeUnit.MILLISECONDS).join();
                assertThat(r.sequence()).isGreaterThan(previous);
                previous = r.sequence();
                assertThat(registry.getValue(p("syncAsync"), "v").orElseThrow().value().asDword())
                        .as("read after batch %d was answered", i).isGreaterThanOrEqualTo(expected);
            }
            CompletableFuture<CommitResult> failing = registry.syncCommitAsync(WriteBatch.builder()
                    .setValue(p("x"), "v", RegistryValue.dword(1)).add(new BatchCommand.KeyExists(p("absent"))).build(), answers);
            Throwable t = catchThrowable(() -> failing.orTimeout(feedTimeout().toMillis(), TimeUnit.MILLISECONDS).join());
            assertThat(t).isInstanceOf(CompletionException.class);
            assertThat(t.getCause()).isInstanceOfSatisfying(ConditionFailedException.class, e -> assertThat(e.failedCommandIndex()).isEqualTo(1));
            assertThat(registry.keyExists(p("x"))).isFalse();
            WriteBatch.Builder tooMany = WriteBatch.builder();
            for (int i = 0; i <= registry.limits().maxBatchCommands(); i++) {
                tooMany.deleteValue(p("many"), "v" + i);
            }
            WriteBatch over = tooMany.build();
            assertThatThrownBy(() -> registry.syncCommitAsync(over, answers)).isInstanceOf(RegistryLimitException.class);
        } finally {
            answers.shutdownNow();
        }
    }

    @Test
    void syncAndAsyncCommitsInterleaveInOneOrder() throws Exception {
        runConcurrently(4, t -> {
            List<CompletableFuture<CommitResult>> mine = new ArrayList<>();
            for (int i = 0; i < 15; i++) {
                WriteBatch b = WriteBatch.builder().setValue(p("mix/t" + t), "i", RegistryValue.dword(i)).build();
                if ((i + t) % 2 == 0) {
                    mine.add(registry.commitAsync(b));
                } else {
                    mine.add(CompletableFuture.completedFuture(registry.commit(b)));
                }
            }
            long prev = 0;
            for (CompletableFuture<CommitResult> f : mine) {
                long s = f.get(feedTimeout().toMillis(), TimeUnit.MILLISECONDS).sequence();
                assertThat(s).isGreaterThan(prev);
                prev = s;
            }
        });
        for (int t = 0; t < 4; t++) {
            assertThat(registry.getValue(p("mix/t" + t), "i").orElseThrow().value().asDword()).isEqualTo(14);
        }
    }

    // =========================================================================================
    // change feed
    // =========================================================================================

    @Test
    void aWatchReceivesEveryBatchTouchingItsSubtreeInOrder() {
        FeedRecorder rec = new FeedRecorder();
        List<Long> expected = new ArrayList<>();
        try (Watch w = registry.watch(p("feed"), rec)) {
            assertThat(w.subtree()).isEqualTo(p("feed"));
            for (int i = 0; i < 30; i++) {
                if (i % 3 == 0) {
                    set("elsewhere", "v", RegistryValue.dword(i));
                } else if (i % 3 == 1) {
                    expected.add(set("feed/k" + (i % 4), "v", RegistryValue.dword(i)).sequence());
                } else {
                    expected.add(commit(WriteBatch.builder().setValue(p("feed"), "top", RegistryValue.dword(i))
                            .setValue(p("feedish"), "v", RegistryValue.dword(i))).sequence());
                }
            }
            awaitBatches(rec, expected.size());
            assertThat(rec.sequences()).containsExactlyElementsOf(expected);
            assertThat(rec.resyncs).isEmpty();
            for (ChangeBatch b : rec.batches) {
                assertThat(b.changes()).isNotEmpty().allSatisfy(c -> assertThat(p("feed").contains(c.key())).as("%s inside feed", c).isTrue());
                for (Change c : b.changes()) {
                    if (c instanceof Change.ValueSet vs) {
                        assertThat(vs.value().revision()).isEqualTo(b.sequence());
                    }
                }
            }
        }
    }

    @Test
    void theFeedDescribesEachEffectExactly() {
        FeedRecorder all = new FeedRecorder();
        FeedRecorder sub = new FeedRecorder();
        try (Watch root = registry.watch(RegistryPath.root(), all); Watch wa = registry.watch(p("w/a"), sub)) {
            long s1 = commit(WriteBatch.builder().createKey(p("w/a"))).sequence();
            long s2 = commit(WriteBatch.builder()
                    .setValue(p("w/a"), "n", RegistryValue.dword(1))
                    .setValue(p("w/b/c"), "m", RegistryValue.dword(2))
                    .deleteValue(p("w/a"), "absent")
                    .createKey(p("w/a"))).sequence();
            long s3 = commit(WriteBatch.builder().deleteValue(p("w/a"), "n").deleteKey(p("w/b")).deleteKey(p("w/zzz"))).sequence();
            long s4 = set("other/x", "v", RegistryValue.dword(3)).sequence();
            long s5 = commit(WriteBatch.builder().deleteKey(p("w")).createKey(p("w"))).sequence();
            awaitBatches(all, 5);
            awaitBatches(sub, 4);
            assertThat(all.batches).containsExactly(
                    new ChangeBatch(s1, List.of(new Change.KeyCreated(p("w")), new Change.KeyCreated(p("w/a")))),
                    new ChangeBatch(s2, List.of(
                            new Change.ValueSet(p("w/a"), "n", new VersionedValue(RegistryValue.dword(1), s2)),
                            new Change.KeyCreated(p("w/b")), new Change.KeyCreated(p("w/b/c")),
                            new Change.ValueSet(p("w/b/c"), "m", new VersionedValue(RegistryValue.dword(2), s2)))),
                    new ChangeBatch(s3, List.of(new Change.ValueDeleted(p("w/a"), "n"), new Change.KeyDeleted(p("w/b")))),
                    new ChangeBatch(s4, List.of(new Change.KeyCreated(p("other")), new Change.KeyCreated(p("other/x")),
                            new Change.ValueSet(p("other/x"), "v", new VersionedValue(RegistryValue.dword(3), s4)))),
                    new ChangeBatch(s5, List.of(new Change.KeyDeleted(p("w")), new Change.KeyCreated(p("w")))));
            // below w/a: only what is inside it, plus the deletion of an ancestor that removed it
            assertThat(sub.batches).containsExactly(
                    new ChangeBatch(s1, List.of(new Change.KeyCreated(p("w/a")))),
                    new ChangeBatch(s2, List.of(new Change.ValueSet(p("w/a"), "n", new VersionedValue(RegistryValue.dword(1), s2)))),
                    new ChangeBatch(s3, List.of(new Change.ValueDeleted(p("w/a"), "n"))),
                    new ChangeBatch(s5, List.of(new Change.KeyDeleted(p("w")))));
            assertThat(all.resyncs).isEmpty();
            assertThat(sub.resyncs).isEmpty();
        }
    }

    @Test
    void awaitDurableCoversWhatWasShownBeforeIt() {
        // durability itself is proved by killing a writer (EmbeddedCrashTest acknowledges batches by it);
        // here: the sequence it answers covers every batch shown before the call and no batch not made
        List<CompletableFuture<CommitResult>> async = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            async.add(registry.commitAsync(WriteBatch.builder().setValue(p("durable/k" + (i % 3)), "v", RegistryValue.dword(i)).build()));
        }
        long synced = set("durable/sync", "v", RegistryValue.dword(1)).sequence();
        long shown = registry.currentSequence();
        long durable = registry.awaitDurable();
        assertThat(durable).isGreaterThanOrEqualTo(shown).isGreaterThanOrEqualTo(synced).isLessThanOrEqualTo(registry.currentSequence());
        long last = 0;
        for (CompletableFuture<CommitResult> f : async) {
            last = Math.max(last, f.join().sequence());
        }
        assertThat(registry.awaitDurable()).as("once every ASYNC batch is shown").isGreaterThanOrEqualTo(last).isGreaterThanOrEqualTo(durable);
    }

    @Test
    void aBatchThatRepeatsOrUndoesItsOwnCommandsReportsEveryEffect() {
        // one change per effect in command order, never netted: replaying a feed reproduces the batch
        FeedRecorder rec = new FeedRecorder();
        commit(WriteBatch.builder().createKey(p("n")));
        try (Watch w = registry.watch(p("n"), rec)) {
            long s1 = commit(WriteBatch.builder()
                    .setValue(p("n/a"), "v", RegistryValue.dword(1))
                    .setValue(p("n/a"), "v", RegistryValue.dword(2))
                    .setValue(p("n/a"), "w", RegistryValue.dword(3))
                    .deleteValue(p("n/a"), "w")).sequence();
            long s2 = commit(WriteBatch.builder()
                    .createKey(p("n/t"))
                    .setValue(p("n/t/u"), "x", RegistryValue.dword(4))
                    .deleteKey(p("n/t"))).sequence();
            awaitBatches(rec, 2);
            assertThat(rec.batches).containsExactly(
                    new ChangeBatch(s1, List.of(new Change.KeyCreated(p("n/a")),
                            new Change.ValueSet(p("n/a"), "v", new VersionedValue(RegistryValue.dword(1), s1)),
                            new Change.ValueSet(p("n/a"), "v", new VersionedValue(RegistryValue.dword(2), s1)),
                            new Change.ValueSet(p("n/a"), "w", new VersionedValue(RegistryValue.dword(3), s1)),
                            new Change.ValueDeleted(p("n/a"), "w"))),
                    new ChangeBatch(s2, List.of(new Change.KeyCreated(p("n/t")), new Change.KeyCreated(p("n/t/u")),
                            new Change.ValueSet(p("n/t/u"), "x", new VersionedValue(RegistryValue.dword(4), s2)),
                            new Change.KeyDeleted(p("n/t")))));
            assertThat(s2).isGreaterThan(s1);
            assertThat(rec.resyncs).isEmpty();
        }
        assertThat(registry.getValue(p("n/a"), "v")).map(VersionedValue::value).contains(RegistryValue.dword(2));
        assertThat(registry.getValue(p("n/a"), "w")).isEmpty();
        assertThat(registry.keyExists(p("n/t"))).isFalse();
        // a replay from before both batches delivers the same
        FeedRecorder replay = new FeedRecorder();
        try (Watch w = registry.watch(p("n"), rec.batches.get(0).sequence() - 1, replay)) {
            awaitBatches(replay, 2);
            assertThat(replay.batches).containsExactlyElementsOf(rec.batches);
        }
    }

    @Test
    void aWatchStartsAtTheCurrentSequence() {
        long before = set("early", "v", RegistryValue.dword(1)).sequence();
        FeedRecorder rec = new FeedRecorder();
        try (Watch w = registry.watch(RegistryPath.root(), rec)) {
            assertThat(w.startSequence()).isGreaterThanOrEqualTo(before);
            long after = set("late", "v", RegistryValue.dword(2)).sequence();
            assertThat(after).isGreaterThan(w.startSequence());
            awaitBatches(rec, 1);
            assertThat(rec.sequences()).containsExactly(after);
        }
    }

    @Test
    void concurrentCommitsReachAWatchOnceEachInSequenceOrder() throws Exception {
        FeedRecorder rec = new FeedRecorder();
        Set<Long> committed = ConcurrentHashMap.newKeySet();
        try (Watch w = registry.watch(p("conc"), rec)) {
            runConcurrently(4, t -> {
                for (int i = 0; i < 30; i++) {
                    CommitResult r = i % 3 == 0
                            ? registry.commitAsync(WriteBatch.builder().setValue(p("conc/t" + t), "i", RegistryValue.dword(i)).build()).join()
                            : registry.commit(WriteBatch.builder().setValue(p("conc/t" + t), "i", RegistryValue.dword(i)).build());
                    committed.add(r.sequence());
                }
            });
            awaitBatches(rec, committed.size());
            List<Long> seqs = rec.sequences();
            assertThat(seqs).doesNotHaveDuplicates().isSorted().hasSameElementsAs(committed);
            assertThat(rec.resyncs).isEmpty();
        }
    }

    @Test
    void aWatchOnAMissingKeySeesItCreatedAndAWatchStopsWhenClosed() {
        FeedRecorder watched = new FeedRecorder();
        FeedRecorder control = new FeedRecorder();
        Watch w = registry.watch(p("later/key"), watched);
        try (Watch c = registry.watch(p("control"), control)) {
            long s = set("later/key", "v", RegistryValue.dword(1)).sequence();
            awaitBatches(watched, 1);
            assertThat(watched.sequences()).containsExactly(s);
            w.close();
            w.close(); // idempotent
            set("later/key", "v", RegistryValue.dword(2));
            long controlSeq = set("control", "v", RegistryValue.dword(3)).sequence();
            awaitBatches(control, 1);
            assertThat(control.sequences()).containsExactly(controlSeq);
            assertThat(watched.sequences()).containsExactly(s);
        }
    }

    @Test
    void aListenerThatThrowsKeepsItsWatch() {
        List<Long> seen = new CopyOnWriteArrayList<>();
        ChangeListener throwing = new ChangeListener() {
            @Override
            public void onBatch(ChangeBatch batch) {
                seen.add(batch.sequence());
                throw new IllegalStateException("listener failure injected by the conformance suite (expected in the log)");
            }

            @Override
            public void onResync(String reason) {
            }
        };
        try (Watch w = registry.watch(RegistryPath.root(), throwing)) {
            long a = set("t", "v", RegistryValue.dword(1)).sequence();
            long b = set("t", "v", RegistryValue.dword(2)).sequence();
            await().atMost(feedTimeout()).untilAsserted(() -> assertThat(seen).containsExactly(a, b));
        }
    }

    // =========================================================================================
    // replaying watches
    // =========================================================================================

    /** Commits 24 batches: inside and outside "rp", values, deletes, key deletes and a batch of several changes. */
    /**
     * The batches of one {@link #commitMixedHistory} round that change something below {@code rp}: all but the
     * four that write only {@code outside}. A test waits for all of them before it takes the live feed as what a
     * replay must deliver exactly: waiting for fewer let the replay deliver batches the copy did not have yet.
     */
    private static final int MIXED_HISTORY_BATCHES_BELOW_RP = 20;

    private List<Long> commitMixedHistory(int round) {
        List<Long> all = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            WriteBatch.Builder b = WriteBatch.builder();
            switch (i % 6) {
                case 0 -> b.setValue(p("rp/k" + (i % 4)), "v", RegistryValue.dword(round * 100 + i));
                case 1 -> b.setValue(p("outside"), "v", RegistryValue.qword(i));
                case 2 -> b.setValue(p("rp/a"), "bin", RegistryValue.binary(new byte[] {(byte) i, (byte) round}))
                        .setValue(p("rp/b/c"), "s", sz("round " + round + " batch " + i))
                        .createKey(p("rp/e" + i));
                case 3 -> b.deleteValue(p("rp/k" + ((i + 1) % 4)), "v").setValue(p("rpish"), "v", RegistryValue.dword(i));
                case 4 -> b.deleteKey(p("rp/e" + (i - 2)));
                default -> b.setValue(p("rp"), "top", RegistryValue.multiSz(List.of("r" + round, "i" + i)));
            }
            all.add(registry.commit(b.build()).sequence());
        }
        return all;
    }

    @Test
    void aReplayingWatchDeliversExactlyWhatALiveWatchSawAfterTheCheckpointThenContinuesLive() {
        FeedRecorder live = new FeedRecorder();
        try (Watch lw = registry.watch(p("rp"), live)) {
            List<Long> first = commitMixedHistory(1);
            long checkpoint = first.get(9);
            awaitBatches(live, MIXED_HISTORY_BATCHES_BELOW_RP);
            List<ChangeBatch> expectedReplay = live.batches.stream().filter(b -> b.sequence() > checkpoint).toList();
            assertThat(expectedReplay).as("batches after the checkpoint").isNotEmpty();

            FeedRecorder replay = new FeedRecorder();
            try (Watch rw = registry.watch(p("rp"), checkpoint, replay)) {
                assertThat(rw.startSequence()).isEqualTo(checkpoint);
                assertThat(rw.subtree()).isEqualTo(p("rp"));
                awaitBatches(replay, expectedReplay.size());
                assertThat(replay.batches).as("replayed history").containsExactlyElementsOf(expectedReplay);
                commitMixedHistory(2);
                awaitBatches(live, 2 * MIXED_HISTORY_BATCHES_BELOW_RP);
                List<ChangeBatch> expectedAll = live.batches.stream().filter(b -> b.sequence() > checkpoint).toList();
                awaitBatches(replay, expectedAll.size());
                assertThat(replay.batches).as("history, then the live feed").containsExactlyElementsOf(expectedAll);
                assertThat(replay.resyncs).isEmpty();
            }
            assertThat(live.resyncs).isEmpty();
        }
    }

    @Test
    void aReplayingWatchOpenedWhileWritersRunHasNoGapAndNoDuplicate() throws Exception {
        FeedRecorder live = new FeedRecorder();
        Set<Long> committed = ConcurrentHashMap.newKeySet();
        try (Watch lw = registry.watch(p("race"), live)) {
            long checkpoint = set("race/t0", "i", RegistryValue.dword(-1)).sequence();
            committed.add(checkpoint);
            AtomicBoolean stop = new AtomicBoolean();
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                List<Future<?>> writers = new ArrayList<>();
                for (int t = 0; t < 2; t++) {
                    int thread = t;
                    writers.add(pool.submit(() -> {
                        for (int i = 0; !stop.get() || i < 20; i++) {
                            committed.add(registry.commit(WriteBatch.builder().setValue(p("race/t" + thread), "i", RegistryValue.dword(i)).build()).sequence());
                        }
                        return null;
                    }));
                }
                // opened while writers run: batches before it (replayed) and after it (live) both exist
                await().atMost(feedTimeout()).until(() -> committed.size() >= 10);
                FeedRecorder replay = new FeedRecorder();
                Watch rw = registry.watch(p("race"), checkpoint, replay);
                long atOpen = registry.currentSequence();
                try {
                    await().atMost(feedTimeout()).until(() -> committed.stream().anyMatch(s -> s > atOpen));
                    stop.set(true);
                    for (Future<?> w : writers) {
                        w.get(feedTimeout().toMillis(), TimeUnit.MILLISECONDS);
                    }
                    List<Long> expected = committed.stream().filter(s -> s > checkpoint).sorted().toList();
                    awaitBatches(replay, expected.size());
                    awaitBatches(live, committed.size());
                    assertThat(replay.sequences()).as("replayed then live").containsExactlyElementsOf(expected)
                            .anyMatch(q -> q <= atOpen).anyMatch(q -> q > atOpen);
                    assertThat(replay.batches).containsExactlyElementsOf(live.batches.stream().filter(b -> b.sequence() > checkpoint).toList());
                    assertThat(replay.resyncs).isEmpty();
                } finally {
                    rw.close();
                }
            } finally {
                stop.set(true);
                pool.shutdownNow();
            }
        }
    }

    @Test
    void replayingFromTheCurrentSequenceIsALiveWatchAndFromZeroIsTheWholeHistoryWhileItIsKept() {
        FeedRecorder live = new FeedRecorder();
        List<Long> committed;
        try (Watch lw = registry.watch(RegistryPath.root(), live)) {
            committed = commitMixedHistory(1);
            awaitBatches(live, committed.size());
        }
        assertThat(registry.replayableAfter()).as("replayableAfter() of a fresh registry").isZero();
        FeedRecorder fromZero = new FeedRecorder();
        try (Watch w = registry.watch(RegistryPath.root(), 0, fromZero)) {
            assertThat(w.startSequence()).isZero();
            awaitBatches(fromZero, committed.size());
            assertThat(fromZero.batches).containsExactlyElementsOf(live.batches);
        }
        FeedRecorder fromNow = new FeedRecorder();
        long now = registry.currentSequence();
        try (Watch w = registry.watch(RegistryPath.root(), now, fromNow)) {
            assertThat(w.startSequence()).isEqualTo(now);
            long next = set("after", "v", RegistryValue.dword(1)).sequence();
            awaitBatches(fromNow, 1);
            assertThat(fromNow.sequences()).containsExactly(next);
        }
    }

    @Test
    void aCheckpointFromTheFutureOrNegativeIsRefusedAndNothingIsRegistered() {
        long current = set("x", "v", RegistryValue.dword(1)).sequence();
        FeedRecorder rec = new FeedRecorder();
        assertThatThrownBy(() -> registry.watch(RegistryPath.root(), registry.currentSequence() + 1_000_000, rec))
                .isInstanceOf(RegistryArgumentException.class)
                .hasMessageContaining(String.valueOf(registry.currentSequence() + 1_000_000))
                .hasMessageContaining(String.valueOf(current));
        assertThatThrownBy(() -> registry.watch(RegistryPath.root(), -1, rec))
                .isInstanceOf(RegistryArgumentException.class)
                .hasMessageContaining("-1");
        set("x", "v", RegistryValue.dword(2));
        awaitTrue("a later batch committed", () -> registry.currentSequence() > current);
        assertThat(rec.batches).isEmpty();
    }

    @Test
    void aReplayingWatchResumesAfterReopenFromACheckpointTakenBefore() throws Exception {
        FeedRecorder live = new FeedRecorder();
        List<ChangeBatch> before;
        long checkpoint;
        try (Watch lw = registry.watch(p("rp"), live)) {
            checkpoint = commitMixedHistory(1).get(5);
            awaitBatches(live, MIXED_HISTORY_BATCHES_BELOW_RP);
            before = List.copyOf(live.batches);
        }
        reopenOrSkip();
        FeedRecorder replay = new FeedRecorder();
        try (Watch rw = registry.watch(p("rp"), checkpoint, replay)) {
            List<ChangeBatch> expected = before.stream().filter(b -> b.sequence() > checkpoint).toList();
            awaitBatches(replay, expected.size());
            assertThat(replay.batches).as("history kept across reopening").containsExactlyElementsOf(expected);
            long after = set("rp/new", "v", RegistryValue.dword(7)).sequence();
            awaitBatches(replay, expected.size() + 1);
            assertThat(replay.sequences().get(expected.size())).isEqualTo(after);
        }
    }

    @Test
    void aCheckpointOlderThanTheRetainedHistoryIsRefusedWithTheOldestReplayableSequence() throws Exception {
        long old = set("h", "v", RegistryValue.dword(1)).sequence();
        set("h", "v", RegistryValue.dword(2));
        long kept = set("h", "v", RegistryValue.dword(3)).sequence();
        assumeTrue(expireFeedHistory(registry), "this backend's test cannot expire its history");
        long horizon = registry.replayableAfter();
        assertThat(horizon).as("replayableAfter() once the history up to %d expired", kept).isGreaterThanOrEqualTo(kept);
        FeedRecorder rec = new FeedRecorder();
        assertThatThrownBy(() -> registry.watch(RegistryPath.root(), old, rec))
                .isInstanceOfSatisfying(FeedHistoryUnavailableException.class, e -> {
                    assertThat(e.requestedAfter()).isEqualTo(old);
                    assertThat(e.replayableAfter()).isEqualTo(horizon);
                })
                .hasMessageContaining(String.valueOf(old));
        long next = set("h", "v", RegistryValue.dword(4)).sequence();
        try (Watch w = registry.watch(RegistryPath.root(), horizon, rec)) {
            awaitBatches(rec, 1);
            assertThat(rec.sequences()).contains(next).allSatisfy(s -> assertThat(s).isGreaterThan(horizon));
        }
        assertThat(registry.getValue(p("h"), "v")).map(VersionedValue::value).contains(RegistryValue.dword(4));
    }

    // =========================================================================================
    // membership, health
    // =========================================================================================

    @Test
    void statusNamesTheLocalNodeAndAPrimaryThatIsUp() {
        await().atMost(feedTimeout()).untilAsserted(() -> assertThat(registry.status().primary()).isPresent());
        ClusterStatus status = registry.status();
        assertThat(status.localNode()).isNotBlank();
        assertThat(status.backend()).isNotBlank();
        assertThat(registry.uri()).startsWith(status.backend() + ":");
        assertThat(status.nodes()).extracting(NodeInfo::name).contains(status.localNode(), status.primary().orElseThrow());
        assertThat(status.nodes()).filteredOn(n -> n.name().equals(status.primary().orElseThrow()))
                .extracting(NodeInfo::state).containsExactly(NodeState.UP);
        assertThat(status.liveNodes()).isGreaterThanOrEqualTo(1);
        assertThat(registry.checkHealth().healthy()).as(registry.checkHealth().detail()).isTrue();
        Subscription s = registry.addMembershipListener(e -> { });
        s.close();
        s.close();
    }

    @Test
    void healthFaultsCanBeAddedListedReplacedAndRemoved() {
        assertThat(registry.healthFaults()).isEmpty();
        HealthFault disk = new HealthFault("disk-1", 1, 112, "disk almost full", "storage", 0);
        HealthFault net = new HealthFault("net-1", 2, 1231, "link down", "network", 4);
        registry.addHealthFault(disk);
        registry.addHealthFault(net);
        assertThat(registry.healthFaults()).containsExactlyInAnyOrder(disk, net);
        HealthFault diskWorse = new HealthFault("disk-1", 1, 112, "disk full", "storage", 1);
        registry.addHealthFault(diskWorse);
        assertThat(registry.healthFaults()).containsExactlyInAnyOrder(diskWorse, net);
        assertThat(registry.removeHealthFault("disk-1")).isTrue();
        assertThat(registry.removeHealthFault("disk-1")).isFalse();
        assertThat(registry.removeHealthFault("never")).isFalse();
        assertThat(registry.healthFaults()).containsExactly(net);
        // faults live outside the user's tree
        assertThat(registry.subkeys(RegistryPath.root())).isEmpty();
    }

    // =========================================================================================
    // lifecycle
    // =========================================================================================

    @Test
    void everyCallAfterCloseFailsWithRegistryClosed() {
        FeedRecorder rec = new FeedRecorder();
        registry.watch(RegistryPath.root(), rec);
        registry.close();
        registry.close(); // idempotent
        assertThat(registry.uri()).isNotBlank();
        assertThat(registry.limits()).isNotNull();
        WriteBatch batch = WriteBatch.builder().setValue(p("k"), "v", RegistryValue.dword(1)).build();
        List<Executable> calls = List.of(
                () -> registry.getValue(p("k"), "v"),
                () -> registry.keyExists(p("k")),
                () -> registry.subkeys(RegistryPath.root()),
                () -> registry.values(RegistryPath.root()),
                () -> registry.read(ReadBatch.of(new ReadBatch.ValueRead(p("k"), "v"))),
                () -> registry.currentSequence(),
                () -> registry.commit(batch),
                () -> registry.watch(RegistryPath.root(), rec),
                () -> registry.status(),
                () -> registry.addMembershipListener(e -> { }),
                () -> registry.checkHealth(),
                () -> registry.healthFaults(),
                () -> registry.addHealthFault(new HealthFault("f", 0, 0, "d", "p", 0)),
                () -> registry.removeHealthFault("f"),
                () -> registry.awaitDurable(),
                () -> registry.watch(RegistryPath.root(), 0, rec),
                () -> registry.replayableAfter(),
                () -> registry.readBarrier(),
                () -> registry.failover(java.util.Optional.empty()),
                () -> registry.drain("node"),
                () -> registry.resume("node"));
        for (int i = 0; i < calls.size(); i++) {
            Executable call = calls.get(i);
            assertThatThrownBy(call::execute).as("call %d after close", i).isInstanceOf(RegistryClosedException.class);
        }
        Throwable async = catchThrowable(() -> registry.commitAsync(batch).join());
        assertThat(async instanceof CompletionException ? async.getCause() : async).isInstanceOf(RegistryClosedException.class);
        assertThat(rec.batches).isEmpty();
    }

    // =========================================================================================
    // durability across a restart (backends that can reopen their store)
    // =========================================================================================

    private void reopenOrSkip() throws Exception {
        ClusterRegistry again = reopen(registry);
        assumeTrue(again != null, "this backend cannot reopen its store in a test");
        registry = again;
    }

    @Test
    void committedStateSurvivesReopen() throws Exception {
        commit(WriteBatch.builder().setValue(p("d/a"), "bin", RegistryValue.binary(new byte[] {1, 2, 3}))
                .setValue(p("d/a"), "multi", RegistryValue.multiSz(List.of("x", "y"))).createKey(p("d/empty")));
        commit(WriteBatch.builder().setValue(p("d/b/c"), "q", RegistryValue.qword(42)).deleteValue(p("d/a"), "multi"));
        commit(WriteBatch.builder().setValue(p("gone/x"), "v", sz("v")));
        commit(WriteBatch.builder().deleteKey(p("gone")));
        registry.commitAsync(WriteBatch.builder().setValue(p("d/async"), "v", sz("async")).build()).orTimeout(feedTimeout().toMillis(), TimeUnit.MILLISECONDS).join();
        HealthFault fault = new HealthFault("kept", 3, 4, "survives restarts", "conformance", 0);
        registry.addHealthFault(fault);
        registry.addHealthFault(new HealthFault("removed", 3, 4, "removed before restart", "conformance", 0));
        registry.removeHealthFault("removed");
        Map<String, VersionedValue> before = dump(registry);
        long sequence = registry.currentSequence();
        reopenOrSkip();
        assertThat(dump(registry)).isEqualTo(before);
        assertThat(registry.currentSequence()).isGreaterThanOrEqualTo(sequence);
        assertThat(registry.healthFaults()).containsExactly(fault);
        long next = set("d", "after", RegistryValue.dword(1)).sequence();
        assertThat(next).isGreaterThan(sequence);
    }

    @Test
    void revisionsDoNotRepeatAcrossReopen() throws Exception {
        long first = set("rr", "v", RegistryValue.dword(1)).sequence();
        commit(WriteBatch.builder().deleteKey(p("rr")));
        reopenOrSkip();
        long second = set("rr", "v", RegistryValue.dword(1)).sequence();
        assertThat(second).isGreaterThan(first);
        reopenOrSkip();
        long third = set("rr", "v", RegistryValue.dword(1)).sequence();
        assertThat(third).isGreaterThan(second);
        assertThat(registry.getValue(p("rr"), "v").orElseThrow().revision()).isEqualTo(third);
    }

    @Test
    void aWatchOnTheReopenedRegistryContinuesTheSequence() throws Exception {
        long before = set("cont", "v", RegistryValue.dword(1)).sequence();
        reopenOrSkip();
        FeedRecorder rec = new FeedRecorder();
        try (Watch w = registry.watch(RegistryPath.root(), rec)) {
            assertThat(w.startSequence()).isGreaterThanOrEqualTo(before);
            long after = set("cont", "v", RegistryValue.dword(2)).sequence();
            awaitBatches(rec, 1);
            assertThat(rec.sequences()).containsExactly(after);
            assertThat(after).isGreaterThan(before);
        }
    }

    /** For subclasses: waits until {@code condition} returns true. */
    protected void awaitTrue(String what, Supplier<Boolean> condition) {
        await().alias(what).atMost(feedTimeout()).until(condition::get);
    }

}
