package dev.reliablestore.tck;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.EntityTooLargeException;
import dev.reliablestore.api.InvalidIdException;
import dev.reliablestore.api.PerformanceMetrics;
import dev.reliablestore.api.StoreClosedException;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.api.Versioned;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The provider test kit: the behaviour every {@link EntityStore} implementation must show.
 *
 * <p>A provider's test extends this class and implements {@link #openFactory()}, which must return
 * a factory over a fresh, empty storage on every call (each test gets its own). Providers whose
 * storage outlives a factory (files, a cluster) also override {@link #reopenFactory()}; providers
 * with an entity size limit override {@link #entitySizeLimit()}. The kit needs junit-jupiter and
 * assertj-core on the test class path.
 *
 * <p>The entities are {@link TckDocument} (type name {@value #DOCS}) and {@link TckCounter}
 * (type name {@value #COUNTERS}).
 */
public abstract class EntityStoreTck {

    /** The type name the TCK stores {@link TckDocument}s under. */
    protected static final String DOCS = "TckDocument";
    /** The type name the TCK stores {@link TckCounter}s under. */
    protected static final String COUNTERS = "TckCounter";

    private static final Duration ASYNC_TIMEOUT = Duration.ofSeconds(30);

    private StoreFactory factory;
    private EntityStore<TckDocument> docs;

    /** A factory over a fresh, empty storage; called once before every test. */
    protected abstract StoreFactory openFactory();

    /**
     * A new factory over the storage the last {@link #openFactory()} opened, called after the TCK
     * closed that factory; empty (the default) when the storage does not outlive its factory, in
     * which case the persistence tests are skipped.
     */
    protected Optional<StoreFactory> reopenFactory() {
        return Optional.empty();
    }

    /**
     * The largest entity, in encoded bytes, the storage from {@link #openFactory()} accepts; empty
     * (the default) when the provider declares no limit, in which case the size tests are skipped.
     */
    protected OptionalLong entitySizeLimit() {
        return OptionalLong.empty();
    }

    @BeforeEach
    void openTckStorage() {
        factory = openFactory();
        docs = factory.store(DOCS, TckDocument.class);
    }

    @AfterEach
    void closeTckStorage() {
        if (factory != null) {
            factory.close();
        }
    }

    /** The factory of the running test. */
    /**
     * Increments each of the 8 threads of the concurrency tests makes. A provider whose every write is a network
     * round trip may lower it, as long as the threads still overlap for long enough to race.
     */
    protected int incrementsPerThread() {
        return 500;
    }

    protected final StoreFactory factory() {
        return factory;
    }

    /** The {@link TckDocument} store of the running test. */
    protected final EntityStore<TckDocument> docs() {
        return docs;
    }

    // ---- CRUD and versions -------------------------------------------------------------------

    @Test
    void saveThenGetReturnsTheValueAtVersionOne() {
        TckDocument doc = TckDocument.simple("first", 1);
        assertThat(docs.save("a", doc)).isEqualTo(1);
        assertThat(docs.get("a")).contains(new Versioned<>("a", doc, 1));
    }

    @Test
    void getOfMissingIdIsEmpty() {
        assertThat(docs.get("missing")).isEmpty();
        assertThat(docs.exists("missing")).isFalse();
    }

    @Test
    void existsFollowsSaveAndDelete() {
        docs.save("a", TckDocument.simple("a", 1));
        assertThat(docs.exists("a")).isTrue();
        assertThat(docs.delete("a")).isTrue();
        assertThat(docs.exists("a")).isFalse();
        assertThat(docs.get("a")).isEmpty();
    }

    @Test
    void everySaveAddsOneToTheVersion() {
        for (int i = 1; i <= 5; i++) {
            assertThat(docs.save("a", TckDocument.simple("v" + i, i))).isEqualTo(i);
        }
        assertThat(docs.get("a")).contains(new Versioned<>("a", TckDocument.simple("v5", 5), 5));
    }

    @Test
    void saveWithTheStoredVersionSucceeds() {
        docs.save("a", TckDocument.simple("one", 1));
        assertThat(docs.save("a", TckDocument.simple("two", 2), 1)).isEqualTo(2);
        assertThat(docs.save("a", TckDocument.simple("three", 3), 2)).isEqualTo(3);
        assertThat(docs.get("a").orElseThrow().value().title()).isEqualTo("three");
    }

    @Test
    void saveWithAStaleVersionConflictsAndWritesNothing() {
        docs.save("a", TckDocument.simple("one", 1));
        docs.save("a", TckDocument.simple("two", 2));
        Throwable thrown = catchThrowable(() -> docs.save("a", TckDocument.simple("stale", 9), 1));
        assertConflict(thrown, "a", 1, 2);
        assertThat(docs.get("a")).contains(new Versioned<>("a", TckDocument.simple("two", 2), 2));
        // a version ahead of the stored one is just as wrong
        assertConflict(catchThrowable(() -> docs.save("a", TckDocument.simple("ahead", 9), 7)), "a", 7, 2);
        assertThat(docs.get("a").orElseThrow().version()).isEqualTo(2);
    }

    @Test
    void saveWithAnExpectedVersionOnAMissingIdConflicts() {
        assertConflict(catchThrowable(() -> docs.save("nobody", TckDocument.simple("x", 1), 3)), "nobody", 3, Versioned.ABSENT);
        assertThat(docs.exists("nobody")).isFalse();
        assertThat(docs.count()).isZero();
    }

    @Test
    void expectedVersionAbsentCreatesOnlyOnce() {
        assertThat(docs.save("a", TckDocument.simple("created", 1), Versioned.ABSENT)).isEqualTo(1);
        assertConflict(catchThrowable(() -> docs.save("a", TckDocument.simple("again", 2), Versioned.ABSENT)),
                "a", Versioned.ABSENT, 1);
        assertThat(docs.get("a")).contains(new Versioned<>("a", TckDocument.simple("created", 1), 1));
    }

    @Test
    void negativeExpectedVersionIsRejected() {
        docs.save("a", TckDocument.simple("one", 1));
        assertThatThrownBy(() -> docs.save("a", TckDocument.simple("x", 2), -5))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-5");
        assertThat(docs.get("a").orElseThrow().version()).isEqualTo(1);
    }

    @Test
    void deleteReportsWhetherSomethingWasDeleted() {
        docs.save("a", TckDocument.simple("a", 1));
        assertThat(docs.delete("a")).isTrue();
        assertThat(docs.delete("a")).isFalse();
        assertThat(docs.delete("never-saved")).isFalse();
    }

    @Test
    void deleteWithTheStoredVersionDeletes() {
        docs.save("a", TckDocument.simple("a", 1));
        docs.save("a", TckDocument.simple("a", 2));
        docs.delete("a", 2);
        assertThat(docs.exists("a")).isFalse();
    }

    @Test
    void deleteWithAStaleVersionConflictsAndDeletesNothing() {
        docs.save("a", TckDocument.simple("a", 1));
        docs.save("a", TckDocument.simple("a", 2));
        assertConflict(catchThrowable(() -> docs.delete("a", 1)), "a", 1, 2);
        assertThat(docs.get("a")).contains(new Versioned<>("a", TckDocument.simple("a", 2), 2));
    }

    @Test
    void deleteWithAnExpectedVersionOnAMissingIdConflicts() {
        assertConflict(catchThrowable(() -> docs.delete("nobody", 1)), "nobody", 1, Versioned.ABSENT);
    }

    @Test
    void aSaveAfterADeleteStartsAgainAtVersionOne() {
        docs.save("a", TckDocument.simple("a", 1));
        docs.save("a", TckDocument.simple("a", 2));
        assertThat(docs.delete("a")).isTrue();
        assertThat(docs.save("a", TckDocument.simple("reborn", 3))).isEqualTo(1);
        assertThat(docs.get("a").orElseThrow().version()).isEqualTo(1);
    }

    @Test
    void getManyReturnsTheFoundIdsInRequestOrder() {
        docs.save("b", TckDocument.simple("b", 1));
        docs.save("a", TckDocument.simple("a", 1));
        docs.save("a", TckDocument.simple("a", 2));
        docs.save("c", TckDocument.simple("c", 1));
        Map<String, Versioned<TckDocument>> found = docs.getMany(List.of("c", "missing", "a", "b"));
        assertThat(found).containsOnlyKeys("c", "a", "b");
        assertThat(new ArrayList<>(found.keySet())).containsExactly("c", "a", "b");
        assertThat(found.get("a")).isEqualTo(new Versioned<>("a", TckDocument.simple("a", 2), 2));
        assertThat(docs.getMany(List.of("x", "y"))).isEmpty();
        assertThat(docs.getMany(List.of())).isEmpty();
    }

    @Test
    void getAllIsOrderedById() {
        for (String id : List.of("m", "b", "z", "a", "B", "aa")) {
            docs.save(id, TckDocument.simple(id, 1));
        }
        docs.save("m", TckDocument.simple("m", 2));
        List<Versioned<TckDocument>> all = docs.getAll();
        assertThat(all).extracting(Versioned::id).containsExactly("B", "a", "aa", "b", "m", "z");
        assertThat(all).filteredOn(v -> v.id().equals("m")).singleElement()
                .isEqualTo(new Versioned<>("m", TckDocument.simple("m", 2), 2));
    }

    @Test
    void getAllWithAFilterKeepsOnlyMatchesInIdOrder() {
        for (int i = 9; i >= 0; i--) {
            docs.save("id-" + i, TckDocument.simple("t" + i, i));
        }
        assertThat(docs.getAll(d -> d.sequence() % 3 == 0)).extracting(Versioned::id)
                .containsExactly("id-0", "id-3", "id-6", "id-9");
        assertThat(docs.getAll(d -> false)).isEmpty();
    }

    @Test
    void countWithAndWithoutAFilter() {
        assertThat(docs.count()).isZero();
        for (int i = 0; i < 7; i++) {
            docs.save("id-" + i, TckDocument.simple("t", i));
        }
        docs.save("id-0", TckDocument.simple("t", 100));
        assertThat(docs.count()).isEqualTo(7);
        assertThat(docs.count(d -> d.sequence() >= 5)).isEqualTo(3);
        docs.delete("id-6");
        assertThat(docs.count()).isEqualTo(6);
        assertThat(docs.count(d -> d.sequence() >= 5)).isEqualTo(2);
    }

    @Test
    void clearRemovesEverythingOfItsTypeAndSaysHowMany() {
        EntityStore<TckCounter> counters = factory.store(COUNTERS, TckCounter.class);
        counters.save("keep", new TckCounter(1, "t"));
        for (int i = 0; i < 5; i++) {
            docs.save("id-" + i, TckDocument.simple("t", i));
        }
        assertThat(docs.clear()).isEqualTo(5);
        assertThat(docs.count()).isZero();
        assertThat(docs.getAll()).isEmpty();
        assertThat(docs.clear()).isZero();
        assertThat(counters.get("keep")).contains(new Versioned<>("keep", new TckCounter(1, "t"), 1));
        assertThat(docs.save("id-0", TckDocument.simple("t", 0))).isEqualTo(1);
    }

    // ---- batches -----------------------------------------------------------------------------

    @Test
    void saveBatchStoresEveryEntryAndReturnsVersionsInEntryOrder() {
        docs.save("existing", TckDocument.simple("old", 0));
        docs.save("existing", TckDocument.simple("old", 1));
        Map<String, TckDocument> batch = new LinkedHashMap<>();
        batch.put("z-new", TckDocument.simple("z", 1));
        batch.put("existing", TckDocument.simple("new", 2));
        batch.put("a-new", TckDocument.simple("a", 3));
        Map<String, Long> versions = docs.saveBatch(batch);
        assertThat(new ArrayList<>(versions.entrySet())).containsExactly(
                Map.entry("z-new", 1L), Map.entry("existing", 3L), Map.entry("a-new", 1L));
        assertThat(docs.get("existing")).contains(new Versioned<>("existing", TckDocument.simple("new", 2), 3));
        assertThat(docs.get("z-new")).contains(new Versioned<>("z-new", TckDocument.simple("z", 1), 1));
        assertThat(docs.count()).isEqualTo(3);
    }

    @Test
    void emptySaveBatchWritesNothing() {
        assertThat(docs.saveBatch(Map.of())).isEmpty();
        assertThat(docs.count()).isZero();
    }

    @Test
    void saveBatchWithOneInvalidIdWritesNothing() {
        docs.save("existing", TckDocument.simple("old", 1));
        Map<String, TckDocument> batch = new LinkedHashMap<>();
        batch.put("ok-1", TckDocument.simple("1", 1));
        batch.put("existing", TckDocument.simple("changed", 2));
        batch.put("bad/id", TckDocument.simple("bad", 3));
        batch.put("ok-2", TckDocument.simple("2", 4));
        assertThatThrownBy(() -> docs.saveBatch(batch)).isInstanceOf(InvalidIdException.class)
                .hasMessageContaining("bad/id");
        assertOnlyExisting();
    }

    @Test
    void saveBatchWithOneNullEntityWritesNothing() {
        docs.save("existing", TckDocument.simple("old", 1));
        Map<String, TckDocument> batch = new LinkedHashMap<>();
        batch.put("ok-1", TckDocument.simple("1", 1));
        batch.put("existing", TckDocument.simple("changed", 2));
        batch.put("null-entity", null);
        batch.put("ok-2", TckDocument.simple("2", 4));
        assertThatThrownBy(() -> docs.saveBatch(batch)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("null-entity");
        assertOnlyExisting();
    }

    @Test
    void saveBatchWithOneEntityTooLargeWritesNothing() {
        OptionalLong limit = entitySizeLimit();
        assumeTrue(limit.isPresent(), "the provider declares no entity size limit");
        docs.save("existing", TckDocument.simple("old", 1));
        Map<String, TckDocument> batch = new LinkedHashMap<>();
        batch.put("ok-1", TckDocument.simple("1", 1));
        batch.put("existing", TckDocument.simple("changed", 2));
        batch.put("huge", oversized(limit.getAsLong()));
        batch.put("ok-2", TckDocument.simple("2", 4));
        assertThatThrownBy(() -> docs.saveBatch(batch)).isInstanceOfSatisfying(EntityTooLargeException.class,
                e -> assertThat(e.limit()).isEqualTo(limit.getAsLong()));
        assertOnlyExisting();
    }

    @Test
    void saveOfAnEntityTooLargeIsRejectedAndWritesNothing() {
        OptionalLong limit = entitySizeLimit();
        assumeTrue(limit.isPresent(), "the provider declares no entity size limit");
        docs.save("existing", TckDocument.simple("old", 1));
        assertThatThrownBy(() -> docs.save("existing", oversized(limit.getAsLong())))
                .isInstanceOfSatisfying(EntityTooLargeException.class, e -> {
                    assertThat(e.limit()).isEqualTo(limit.getAsLong());
                    assertThat(e.size()).isGreaterThan(limit.getAsLong());
                    assertThat(e.getMessage()).contains("existing", Long.toString(limit.getAsLong()));
                });
        assertThatThrownBy(() -> docs.save("new", oversized(limit.getAsLong()), Versioned.ABSENT))
                .isInstanceOf(EntityTooLargeException.class);
        assertOnlyExisting();
        // just under the limit is fine (a provider may add overhead, so aim well under it)
        assertThat(docs.save("fits", sized(limit.getAsLong() / 4))).isEqualTo(1);
    }

    private void assertOnlyExisting() {
        assertThat(docs.getAll()).containsExactly(new Versioned<>("existing", TckDocument.simple("old", 1), 1));
    }

    // ---- concurrency -------------------------------------------------------------------------

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void concurrentIncrementsWithOptimisticRetryLoseNoUpdate() throws Exception {
        EntityStore<TckCounter> counters = factory.store(COUNTERS, TckCounter.class);
        int perThread = incrementsPerThread();
        runIncrements(counters, 8, perThread, t -> "counter");
        Versioned<TckCounter> end = counters.get("counter").orElseThrow();
        assertThat(end.value().value()).isEqualTo(8 * perThread);
        assertThat(end.version()).isEqualTo(8 * perThread + 1);
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void concurrentIncrementsSpreadOverSeveralIdsLoseNoUpdate() throws Exception {
        EntityStore<TckCounter> counters = factory.store(COUNTERS, TckCounter.class);
        int perThread = incrementsPerThread();
        runIncrements(counters, 8, perThread, t -> "counter-" + (t % 3));
        long total = 0;
        long versions = 0;
        for (Versioned<TckCounter> v : counters.getAll()) {
            total += v.value().value();
            versions += v.version() - 1;
            assertThat(v.version()).isEqualTo(v.value().value() + 1);
        }
        assertThat(total).isEqualTo(8 * perThread);
        assertThat(versions).isEqualTo(8 * perThread);
    }

    /** Each call to {@code idOf} picks, from an increment number, the id that increment goes to. */
    private static void runIncrements(EntityStore<TckCounter> counters, int threads, int perThread,
                                      Function<Integer, String> idOf) throws Exception {
        Set<String> ids = new java.util.TreeSet<>();
        for (int i = 0; i < threads * perThread; i++) {
            ids.add(idOf.apply(i));
        }
        for (String id : ids) {
            counters.save(id, new TckCounter(0, "init"), Versioned.ABSENT);
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                results.add(pool.submit(() -> {
                    start.await();
                    int conflicts = 0;
                    for (int i = 0; i < perThread; i++) {
                        String id = idOf.apply(thread * perThread + i);
                        while (true) {
                            Versioned<TckCounter> current = counters.get(id).orElseThrow();
                            try {
                                counters.save(id, new TckCounter(current.value().value() + 1, "thread-" + thread),
                                        current.version());
                                break;
                            } catch (ConcurrencyConflictException e) {
                                conflicts++;
                            }
                        }
                    }
                    return conflicts;
                }));
            }
            start.countDown();
            for (Future<Integer> f : results) {
                f.get(4, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(30, TimeUnit.SECONDS);
        }
    }

    // ---- ids ---------------------------------------------------------------------------------

    @Test
    void idsAtTheLimitsAreStoredAndFoundAgain() {
        List<String> ids = unusualValidIds();
        long sequence = 0;
        for (String id : ids) {
            assertThat(docs.save(id, TckDocument.simple(id, sequence++))).as("save of %s", id).isEqualTo(1);
        }
        sequence = 0;
        for (String id : ids) {
            assertThat(docs.get(id)).as("get of %s", id)
                    .contains(new Versioned<>(id, TckDocument.simple(id, sequence++), 1));
        }
        assertThat(docs.count()).isEqualTo(ids.size());
        List<String> sorted = new ArrayList<>(ids);
        Collections.sort(sorted);
        assertThat(docs.getAll()).extracting(Versioned::id).containsExactlyElementsOf(sorted);
        for (String id : ids) {
            assertThat(docs.delete(id)).as("delete of %s", id).isTrue();
        }
        assertThat(docs.count()).isZero();
    }

    /** Valid ids that stress a provider's key or file-name mapping. */
    protected List<String> unusualValidIds() {
        return List.of(
                "x",
                "a".repeat(255),
                "a".repeat(254) + "b", // shares a long prefix with the one above
                "A".repeat(255),
                "é".repeat(255),
                "😀".repeat(127) + "z", // 255 UTF-16 units
                "Case", "case", "CASE",
                "with space", " leading", "trailing ", ".", "..", ".hidden", "dot.", "a.b.c",
                "CON", "nul", "com1", "LPT9.txt",
                "a:b*c?d\"e<f>g|h", "100%", "%41", "!bang", "~tilde", "#hash&amp;",
                "שלום", "مرحبا", "漢字", "🧪👩‍👩‍👧", "e\u0301", "\u00e9");
    }

    @Test
    void invalidIdsAreRejectedAndChangeNothing() {
        docs.save("existing", TckDocument.simple("old", 1));
        List<String> invalid = Arrays.asList("a".repeat(256), "😀".repeat(128), "a/b", "/", "a\\b", "\\",
                "tab\tinside", "new\nline", "nul\u0000", "\u007f", "\u0085", "", null);
        TckDocument doc = TckDocument.simple("x", 2);
        for (String id : invalid) {
            List<Executable> calls = List.of(
                    () -> docs.get(id), () -> docs.exists(id), () -> docs.save(id, doc), () -> docs.save(id, doc, 1),
                    () -> docs.delete(id), () -> docs.delete(id, 1), () -> docs.getMany(Arrays.asList("existing", id)),
                    () -> docs.saveBatch(Collections.singletonMap(id, doc)));
            for (Executable call : calls) {
                Throwable thrown = catchThrowable(call::execute);
                assertThat(thrown).as("id %s", describe(id)).isInstanceOf(InvalidIdException.class);
                assertThat(((InvalidIdException) thrown).invalidId()).isEqualTo(id);
            }
        }
        assertOnlyExisting();
    }

    @Test
    void invalidIdMessagesNameTheValueAndTheLimit() {
        assertThatThrownBy(() -> docs.get("b".repeat(256))).hasMessageContaining("256").hasMessageContaining("255")
                .hasMessageContaining("bbbb");
        assertThatThrownBy(() -> docs.save("dir/file", TckDocument.simple("x", 1))).hasMessageContaining("dir/file");
        assertThatThrownBy(() -> docs.get("")).hasMessageContaining("empty");
        assertThatThrownBy(() -> docs.get(null)).hasMessageContaining("null");
    }

    @Test
    void invalidTypeNamesAreRejected() {
        for (String type : Arrays.asList("", "a/b", "a\\b", "x\n", "t".repeat(256), null)) {
            assertThatThrownBy(() -> factory.store(type, TckDocument.class)).as("type %s", describe(type))
                    .isInstanceOf(InvalidIdException.class);
        }
    }

    @Test
    void theSameIdUnderTwoTypesDoesNotCollide() {
        EntityStore<TckDocument> other = factory.store("OtherDocument", TckDocument.class);
        EntityStore<TckCounter> counters = factory.store(COUNTERS, TckCounter.class);
        docs.save("shared", TckDocument.simple("docs", 1));
        docs.save("shared", TckDocument.simple("docs", 2));
        other.save("shared", TckDocument.simple("other", 1));
        counters.save("shared", new TckCounter(42, "c"));
        assertThat(docs.get("shared")).contains(new Versioned<>("shared", TckDocument.simple("docs", 2), 2));
        assertThat(other.get("shared")).contains(new Versioned<>("shared", TckDocument.simple("other", 1), 1));
        assertThat(counters.get("shared")).contains(new Versioned<>("shared", new TckCounter(42, "c"), 1));
        assertThat(other.delete("shared")).isTrue();
        assertThat(docs.exists("shared")).isTrue();
        assertThat(counters.clear()).isEqualTo(1);
        assertThat(docs.count()).isEqualTo(1);
        // type names differing only in case are different types
        EntityStore<TckDocument> lower = factory.store("tckdocument", TckDocument.class);
        assertThat(lower.get("shared")).isEmpty();
        lower.save("shared", TckDocument.simple("lower", 1));
        assertThat(docs.get("shared").orElseThrow().value().title()).isEqualTo("docs");
    }

    @Test
    void twoStoresOfTheSameTypeSeeTheSameData() {
        EntityStore<TckDocument> again = factory.store(DOCS, TckDocument.class);
        docs.save("a", TckDocument.simple("a", 1));
        assertThat(again.get("a")).contains(new Versioned<>("a", TckDocument.simple("a", 1), 1));
        assertConflict(catchThrowable(() -> again.save("a", TckDocument.simple("b", 1), Versioned.ABSENT)), "a",
                Versioned.ABSENT, 1);
    }

    // ---- values ------------------------------------------------------------------------------

    @Test
    void richEntitiesRoundTripUnchanged() {
        TckDocument rich = TckDocument.rich("Überschrift 🚀 עברית");
        docs.save("rich", rich);
        assertThat(docs.get("rich").orElseThrow().value()).isEqualTo(rich);
        assertThat(docs.getMany(List.of("rich")).get("rich").value()).isEqualTo(rich);
        assertThat(docs.getAll().get(0).value()).isEqualTo(rich);
        assertThat(docs.getAll(d -> d.title().startsWith("Über"))).extracting(Versioned::value).containsExactly(rich);
        TckDocument sparse = new TckDocument(null, null, List.of(), Set.of(), Map.of(), List.of(), Map.of(), null,
                null, null, 0, false, "");
        docs.save("sparse", sparse);
        assertThat(docs.get("sparse").orElseThrow().value()).isEqualTo(sparse);
    }

    @Test
    void aStoredEntityDoesNotChangeWhenTheCallerMutatesItsObjects() {
        TckDocument rich = TckDocument.rich("mutable");
        TckDocument expected = TckDocument.rich("mutable");
        docs.save("m", rich);
        rich.tags().add("added after save");
        rich.scores().put("sneaky", 1);
        rich.lines().get(0).notes().clear();
        assertThat(docs.get("m").orElseThrow().value()).isEqualTo(expected);
        Map<String, TckDocument> batch = new HashMap<>();
        TckDocument batched = TckDocument.rich("batched");
        batch.put("b", batched);
        docs.saveBatch(batch);
        batched.tags().clear();
        assertThat(docs.get("b").orElseThrow().value()).isEqualTo(TckDocument.rich("batched"));
        // and what a read returns is the caller's own copy
        TckDocument read = docs.get("m").orElseThrow().value();
        try {
            read.tags().add("changed by reader");
        } catch (UnsupportedOperationException immutable) {
            // an immutable copy is fine too
        }
        assertThat(docs.get("m").orElseThrow().value()).isEqualTo(expected);
    }

    // ---- persistence -------------------------------------------------------------------------

    @Test
    void dataAndVersionsSurviveReopening() {
        TckDocument rich = TckDocument.rich("durable");
        docs.save("rich", rich);
        docs.save("rich", rich);
        docs.save("gone", TckDocument.simple("gone", 1));
        docs.delete("gone");
        docs.saveBatch(Map.of("b1", TckDocument.simple("b1", 1), "b2", TckDocument.simple("b2", 2)));
        factory.store(COUNTERS, TckCounter.class).save("c", new TckCounter(7, "x"));
        factory.close();
        Optional<StoreFactory> reopened = reopenFactory();
        assumeTrue(reopened.isPresent(), "the provider's storage does not outlive its factory");
        factory = reopened.get();
        docs = factory.store(DOCS, TckDocument.class);
        assertThat(docs.getAll()).containsExactly(
                new Versioned<>("b1", TckDocument.simple("b1", 1), 1),
                new Versioned<>("b2", TckDocument.simple("b2", 2), 1),
                new Versioned<>("rich", rich, 2));
        assertThat(docs.save("rich", rich, 2)).isEqualTo(3);
        assertThat(docs.save("gone", TckDocument.simple("gone", 1), Versioned.ABSENT)).isEqualTo(1);
        assertThat(factory.store(COUNTERS, TckCounter.class).get("c"))
                .contains(new Versioned<>("c", new TckCounter(7, "x"), 1));
    }

    // ---- async twins -------------------------------------------------------------------------

    @Test
    void asyncTwinsGiveTheSameResults() {
        TckDocument one = TckDocument.simple("one", 1);
        TckDocument two = TckDocument.simple("two", 2);
        assertThat(await(docs.saveAsync("a", one))).isEqualTo(1);
        assertThat(await(docs.saveAsync("a", two, 1))).isEqualTo(2);
        assertThat(await(docs.saveAsync("b", one, Versioned.ABSENT))).isEqualTo(1);
        assertThat(await(docs.getAsync("a"))).contains(new Versioned<>("a", two, 2));
        assertThat(await(docs.getAsync("zz"))).isEmpty();
        assertThat(await(docs.existsAsync("a"))).isTrue();
        assertThat(await(docs.existsAsync("zz"))).isFalse();
        assertThat(await(docs.getManyAsync(List.of("b", "zz", "a"))).keySet()).containsExactly("b", "a");
        assertThat(await(docs.getAllAsync())).extracting(Versioned::id).containsExactly("a", "b");
        assertThat(await(docs.getAllAsync(d -> d.sequence() == 1))).extracting(Versioned::id).containsExactly("b");
        assertThat(await(docs.countAsync())).isEqualTo(2);
        assertThat(await(docs.countAsync(d -> d.sequence() == 2))).isEqualTo(1);
        Map<String, TckDocument> batch = new LinkedHashMap<>();
        batch.put("c", one);
        batch.put("a", one);
        assertThat(await(docs.saveBatchAsync(batch))).containsExactly(Map.entry("c", 1L), Map.entry("a", 3L));
        await(docs.deleteAsync("a", 3));
        assertThat(await(docs.deleteAsync("b"))).isTrue();
        assertThat(await(docs.deleteAsync("b"))).isFalse();
        assertThat(await(docs.clearAsync())).isEqualTo(1);
        assertThat(docs.count()).isZero();
    }

    @Test
    void asyncTwinsDeliverFailuresThroughTheFutureNeverDirectly() {
        docs.save("a", TckDocument.simple("one", 1));
        assertAsyncFailure(() -> docs.saveAsync("a", TckDocument.simple("x", 1), 5), ConcurrencyConflictException.class);
        assertAsyncFailure(() -> docs.saveAsync("a", TckDocument.simple("x", 1), Versioned.ABSENT),
                ConcurrencyConflictException.class);
        assertAsyncFailure(() -> docs.deleteAsync("a", 9), ConcurrencyConflictException.class);
        assertAsyncFailure(() -> docs.getAsync("bad/id"), InvalidIdException.class);
        assertAsyncFailure(() -> docs.getAsync(null), InvalidIdException.class);
        assertAsyncFailure(() -> docs.existsAsync(""), InvalidIdException.class);
        assertAsyncFailure(() -> docs.saveAsync("x".repeat(256), TckDocument.simple("x", 1)), InvalidIdException.class);
        assertAsyncFailure(() -> docs.saveAsync("ok", null), NullPointerException.class);
        assertAsyncFailure(() -> docs.deleteAsync("a\\b"), InvalidIdException.class);
        assertAsyncFailure(() -> docs.getManyAsync(Arrays.asList("a", null)), InvalidIdException.class);
        assertAsyncFailure(() -> docs.saveBatchAsync(Collections.singletonMap("ok", null)), NullPointerException.class);
        assertAsyncFailure(() -> docs.getAllAsync(null), NullPointerException.class);
        assertThat(docs.getAll()).containsExactly(new Versioned<>("a", TckDocument.simple("one", 1), 1));
        docs.close();
        assertAsyncFailure(() -> docs.getAsync("a"), StoreClosedException.class);
        assertAsyncFailure(() -> docs.saveAsync("a", TckDocument.simple("x", 1)), StoreClosedException.class);
        assertAsyncFailure(() -> docs.countAsync(), StoreClosedException.class);
    }

    /**
     * A caller that reuses its buffer once saveBatchAsync returned: the batch is the map as it was at
     * the call. Read later on a store thread, it was empty, and the future answered {} for a batch
     * that wrote nothing. An entity of the batch changed after the call is saved as it was, too.
     */
    @Test
    void anAsyncBatchTakesItsMapAndEntitiesWhenCalled() {
        TckHeldReads held = new TckHeldReads(ASYNC_TIMEOUT);
        TckDocument b = withHeldTags(held, TckDocument.rich("b"));
        Map<String, TckDocument> entries = new LinkedHashMap<>();
        entries.put("a", TckDocument.simple("a", 1));
        entries.put("b", b);
        Map<String, TckDocument> buffer = held.map(entries);
        CompletableFuture<Map<String, Long>> saved;
        try {
            saved = docs.saveBatchAsync(buffer);
            buffer.clear();
            b.tags().add("added after the call");
        } finally {
            held.release();
        }
        assertThat(await(saved)).containsExactly(Map.entry("a", 1L), Map.entry("b", 1L));
        assertThat(docs.getAll()).containsExactly(new Versioned<>("a", TckDocument.simple("a", 1), 1),
                new Versioned<>("b", TckDocument.rich("b"), 1));
    }

    /** A caller that changes its object once saveAsync returned: what is saved is the object as it was at the call. */
    @Test
    void anAsyncSaveTakesItsEntityWhenCalled() {
        TckHeldReads held = new TckHeldReads(ASYNC_TIMEOUT);
        TckDocument any = withHeldTags(held, TckDocument.rich("any"));
        TckDocument created = withHeldTags(held, TckDocument.rich("created"));
        CompletableFuture<Long> savedAny;
        CompletableFuture<Long> savedCreated;
        try {
            savedAny = docs.saveAsync("any", any);
            savedCreated = docs.saveAsync("created", created, Versioned.ABSENT);
            any.tags().add("added after the call");
            created.tags().clear();
        } finally {
            held.release();
        }
        assertThat(await(savedAny)).isEqualTo(1);
        assertThat(await(savedCreated)).isEqualTo(1);
        assertThat(docs.get("any")).contains(new Versioned<>("any", TckDocument.rich("any"), 1));
        assertThat(docs.get("created")).contains(new Versioned<>("created", TckDocument.rich("created"), 1));
    }

    /** The document with tags that only the test's thread may read before {@code held} is released. */
    private static TckDocument withHeldTags(TckHeldReads held, TckDocument d) {
        return new TckDocument(d.title(), d.status(), held.list(d.tags()), d.labels(), d.scores(), d.lines(),
                d.linesByWarehouse(), d.createdAt(), d.dueDate(), d.timeout(), d.sequence(), d.flagged(), d.note());
    }

    // ---- closing -----------------------------------------------------------------------------

    @Test
    void everyCallOnAClosedStoreFailsWithStoreClosed() {
        docs.save("a", TckDocument.simple("one", 1));
        docs.close();
        TckDocument doc = TckDocument.simple("x", 1);
        List<Executable> calls = List.of(
                () -> docs.get("a"), () -> docs.getMany(List.of("a")), () -> docs.exists("a"),
                () -> docs.save("a", doc), () -> docs.save("a", doc, 1), () -> docs.delete("a"),
                () -> docs.delete("a", 1), () -> docs.getAll(), () -> docs.getAll(d -> true), () -> docs.count(),
                () -> docs.count(d -> true), () -> docs.clear(), () -> docs.saveBatch(Map.of("a", doc)));
        for (Executable call : calls) {
            assertThat(catchThrowable(call::execute)).isInstanceOf(StoreClosedException.class)
                    .hasMessageContaining(DOCS);
        }
        // the data is still there for a new store
        assertThat(factory.store(DOCS, TckDocument.class).get("a").orElseThrow().version()).isEqualTo(1);
    }

    @Test
    void closeIsIdempotent() {
        docs.close();
        assertThatCode(docs::close).doesNotThrowAnyException();
        factory.close();
        assertThatCode(factory::close).doesNotThrowAnyException();
        assertThatCode(docs::close).doesNotThrowAnyException();
    }

    @Test
    void closingOneStoreLeavesTheOthersOpen() {
        EntityStore<TckDocument> second = factory.store(DOCS, TckDocument.class);
        docs.save("a", TckDocument.simple("a", 1));
        docs.close();
        assertThat(second.save("a", TckDocument.simple("a", 2), 1)).isEqualTo(2);
        assertThat(second.get("a")).contains(new Versioned<>("a", TckDocument.simple("a", 2), 2));
    }

    @Test
    void closingTheFactoryClosesItsStores() {
        EntityStore<TckCounter> counters = factory.store(COUNTERS, TckCounter.class);
        docs.save("a", TckDocument.simple("a", 1));
        factory.close();
        assertThatThrownBy(() -> docs.get("a")).isInstanceOf(StoreClosedException.class);
        assertThatThrownBy(() -> counters.save("c", new TckCounter(1, "x"))).isInstanceOf(StoreClosedException.class);
        assertAsyncFailure(() -> docs.getAsync("a"), StoreClosedException.class);
        assertThatThrownBy(() -> factory.store(DOCS, TckDocument.class)).isInstanceOf(StoreClosedException.class);
    }

    // ---- metrics -----------------------------------------------------------------------------

    @Test
    void performanceMetricsCountReadsWritesAndConflicts() {
        PerformanceMetrics before = docs.performanceMetrics();
        assertThat(before.reads()).isZero();
        assertThat(before.writes()).isZero();
        assertThat(before.conflicts()).isZero();
        docs.save("a", TckDocument.simple("a", 1));
        docs.save("a", TckDocument.simple("a", 2), 1);
        docs.saveBatch(Map.of("b", TckDocument.simple("b", 1)));
        docs.delete("b");
        docs.get("a");
        docs.exists("a");
        docs.getAll();
        docs.count();
        catchThrowable(() -> docs.save("a", TckDocument.simple("x", 1), 1));
        catchThrowable(() -> docs.delete("a", 7));
        PerformanceMetrics after = docs.performanceMetrics();
        assertThat(after.writes()).isGreaterThanOrEqualTo(4);
        assertThat(after.reads()).isGreaterThanOrEqualTo(4);
        assertThat(after.conflicts()).isEqualTo(2);
        assertThat(after.p99WriteLatency()).isPositive().isGreaterThanOrEqualTo(after.p50WriteLatency());
        assertThat(after.averageReadLatency()).isPositive();
        assertThat(after.cacheHitRatio()).isBetween(0.0, 1.0);
    }

    // ---- helpers for subclasses and tests ----------------------------------------------------

    /** Asserts that {@code thrown} is a conflict on id with the given expected and actual versions. */
    protected static void assertConflict(Throwable thrown, String id, long expected, long actual) {
        assertThat(thrown).isInstanceOfSatisfying(ConcurrencyConflictException.class, e -> {
            assertThat(e.id()).isEqualTo(id);
            assertThat(e.expectedVersion()).as("expected version carried by the conflict").isEqualTo(expected);
            assertThat(e.actualVersion()).as("actual version carried by the conflict").isEqualTo(actual);
            assertThat(e.getMessage()).contains(id);
        });
    }

    /** Asserts that the call returns a future (never throws) and that it fails with the type. */
    protected static void assertAsyncFailure(java.util.function.Supplier<CompletableFuture<?>> call,
                                             Class<? extends Throwable> type) {
        CompletableFuture<?>[] future = new CompletableFuture<?>[1];
        assertThatCode(() -> future[0] = call.get()).as("an async call never throws directly")
                .doesNotThrowAnyException();
        Throwable failure = catchThrowable(() -> future[0].get(ASYNC_TIMEOUT.toSeconds(), TimeUnit.SECONDS));
        assertThat(failure).isInstanceOf(ExecutionException.class);
        assertThat(failure.getCause()).isInstanceOf(type);
    }

    /** The future's value, waiting at most 30 seconds. */
    protected static <R> R await(CompletableFuture<R> future) {
        try {
            return future.get(ASYNC_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("async call failed: " + e.getCause(), e.getCause());
        } catch (Exception e) {
            throw new AssertionError("async call did not complete: " + e, e);
        }
    }

    /** A document whose encoding is well over {@code limit} bytes even if compressed. */
    protected static TckDocument oversized(long limit) {
        return sized(2 * limit + 1024);
    }

    /** A document whose title is {@code chars} incompressible ASCII characters. */
    protected static TckDocument sized(long chars) {
        Random random = new Random(chars);
        char[] text = new char[Math.toIntExact(chars)];
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-";
        for (int i = 0; i < text.length; i++) {
            text[i] = alphabet.charAt(random.nextInt(alphabet.length()));
        }
        return TckDocument.simple(new String(text), 0);
    }

    private static String describe(String id) {
        if (id == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder();
        for (char c : id.toCharArray()) {
            out.append(Character.isISOControl(c) ? String.format("\\u%04X", (int) c) : String.valueOf(c));
        }
        return out.length() > 40 ? out.substring(0, 40) + "…(" + id.length() + ")" : out.toString();
    }
}
