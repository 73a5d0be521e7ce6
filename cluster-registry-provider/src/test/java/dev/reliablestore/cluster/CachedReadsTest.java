package dev.reliablestore.cluster;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What a cache hit returns: the one cached instance for deeply immutable types (zero-copy), a fresh
 * copy for others, and either when the store's cachedReads forces it. Whatever the path, mutating
 * what get returned never changes what the next get returns.
 */
class CachedReadsTest {

    enum Tier { GOLD, SILVER }

    record Price(BigDecimal amount, String currency) {
    }

    record Frozen(String name, long count, Tier tier, Instant at, Price price) {
    }

    record Tagged(String name, List<String> tags) {
    }

    record Sealed(String name, List<String> tags) {
        Sealed {
            tags = List.copyOf(tags);
        }
    }

    record Bytes(String name, int[] values) {
    }

    record Dated(String name, Date when) {
    }

    /** The same JSON as {@link Frozen}, another class: a second view of one entity type. */
    record FrozenView(String name, long count, Tier tier, Instant at, Price price) {
    }

    @TempDir
    Path dir;

    private StoreFactory factory;

    private StoreFactory open(ClusterPersistenceConfiguration.Builder b) {
        factory = ClusterPersistenceProvider.open(b.build());
        return factory;
    }

    private ClusterPersistenceConfiguration.Builder cached() {
        return EmbeddedFixture.config(dir).enableLocalCache(true).cacheTTL(java.time.Duration.ofHours(1));
    }

    @AfterEach
    void close() {
        if (factory != null) {
            factory.close();
        }
    }

    private static <T> T get(EntityStore<T> store, String id) {
        return store.get(id).orElseThrow().value();
    }

    @Test
    void anImmutableRecordIsTheSameInstanceOnEveryHitAndANewOneAfterASave() {
        EntityStore<Frozen> store = open(cached()).store(Frozen.class);
        Frozen saved = new Frozen("a", 1, Tier.GOLD, Instant.parse("2024-01-02T03:04:05Z"), new Price(new BigDecimal("12.30"), "EUR"));
        store.save("a", saved);
        Frozen first = get(store, "a");
        Frozen second = get(store, "a");
        assertThat(second).isSameAs(first).isEqualTo(saved).isNotSameAs(saved);
        assertThat(store.getMany(List.of("a")).get("a").value()).isSameAs(first);

        Frozen changed = new Frozen("a", 2, Tier.SILVER, saved.at(), saved.price());
        store.save("a", changed);
        assertThat(get(store, "a")).isEqualTo(changed);
        assertThat(first).as("the shared instance itself never changes").isEqualTo(saved);
    }

    @Test
    void aRecordHoldingAListJacksonFilledTakesTheCopyPath() {
        EntityStore<Tagged> store = open(cached()).store(Tagged.class);
        store.save("t", new Tagged("t", List.of("x")));
        Tagged first = get(store, "t");
        first.tags().add("mutated");
        Tagged second = get(store, "t");
        assertThat(second).isNotSameAs(first).isEqualTo(new Tagged("t", List.of("x")));
        assertThat(get(store, "t")).isNotSameAs(second);
    }

    @Test
    void aRecordHoldingAnArrayTakesTheCopyPath() {
        EntityStore<Bytes> store = open(cached()).store(Bytes.class);
        store.save("b", new Bytes("b", new int[] {1, 2, 3}));
        Bytes first = get(store, "b");
        first.values()[0] = 99;
        Bytes second = get(store, "b");
        assertThat(second).isNotSameAs(first);
        assertThat(second.values()).containsExactly(1, 2, 3);
    }

    @Test
    void aRecordHoldingAJavaUtilDateTakesTheCopyPath() {
        EntityStore<Dated> store = open(cached()).store(Dated.class);
        store.save("d", new Dated("d", new Date(1_000)));
        Dated first = get(store, "d");
        first.when().setTime(2_000);
        Dated second = get(store, "d");
        assertThat(second).isNotSameAs(first);
        assertThat(second.when().getTime()).isEqualTo(1_000);
    }

    @Test
    void aRecordThatCopiesItsListIntoAnUnmodifiableOneIsSharedAndCannotBeMutated() {
        EntityStore<Sealed> store = open(cached()).store(Sealed.class);
        store.save("s", new Sealed("s", List.of("x", "y")));
        Sealed first = get(store, "s");
        assertThat(get(store, "s")).isSameAs(first);
        assertThatThrownBy(() -> first.tags().add("mutated")).isInstanceOf(UnsupportedOperationException.class);
        assertThat(get(store, "s").tags()).containsExactly("x", "y");
    }

    @Test
    void copyForcesAFreshInstanceForAnImmutableType() {
        EntityStore<Frozen> store = open(cached().cachedReads(CachedReads.COPY)).store(Frozen.class);
        store.save("a", new Frozen("a", 1, Tier.GOLD, Instant.EPOCH, null));
        Frozen first = get(store, "a");
        assertThat(get(store, "a")).isEqualTo(first).isNotSameAs(first);
    }

    @Test
    void shareForcesTheSharedInstanceForAMutableTypeWhoseMutationsEveryReaderThenSees() {
        EntityStore<Tagged> store = open(cached().cachedReads(CachedReads.SHARE)).store(Tagged.class);
        store.save("t", new Tagged("t", List.of("x")));
        Tagged first = get(store, "t");
        assertThat(get(store, "t")).isSameAs(first);
        first.tags().add("mutated"); // what the docs warn against: the caller promised not to
        assertThat(get(store, "t").tags()).containsExactly("x", "mutated");
    }

    @Test
    void aStoresOwnSettingWinsOverTheFactorysOne() {
        StoreFactory f = open(cached().cachedReads(CachedReads.COPY).cachedReads("Hot", CachedReads.AUTO));
        EntityStore<Frozen> hot = f.store("Hot", Frozen.class);
        EntityStore<Frozen> cold = f.store("Cold", Frozen.class);
        Frozen v = new Frozen("a", 1, Tier.GOLD, Instant.EPOCH, null);
        hot.save("a", v);
        cold.save("a", v);
        assertThat(get(hot, "a")).isSameAs(get(hot, "a"));
        assertThat(get(cold, "a")).isNotSameAs(get(cold, "a"));
    }

    @Test
    void theStringFormTakesTheFactoryAndPerTypeKeys() {
        ClusterPersistenceConfiguration c = ClusterPersistenceConfiguration.fromMap(Map.of("resourceGroupName", "RG",
                "registryKeyPath", "A/B", "enableLocalCache", "true", "cachedReads", "copy", "cachedReads.Hot", "Share"));
        assertThat(c.cachedReads("Hot")).isEqualTo(CachedReads.SHARE);
        assertThat(c.cachedReads("Other")).isEqualTo(CachedReads.COPY);
        assertThat(ClusterPersistenceConfiguration.fromMap(Map.of("resourceGroupName", "RG", "registryKeyPath", "A/B",
                "enableLocalCache", "true")).cachedReads("Any")).isEqualTo(CachedReads.AUTO);
    }

    @Test
    void storesOfOneTypeShareOneInstanceAndAStoreOfAnotherClassGetsItsOwn() {
        StoreFactory f = open(cached());
        EntityStore<Frozen> one = f.store("Frozen", Frozen.class);
        EntityStore<Frozen> two = f.store("Frozen", Frozen.class);
        EntityStore<FrozenView> view = f.store("Frozen", FrozenView.class);
        one.save("a", new Frozen("a", 1, Tier.GOLD, Instant.EPOCH, null));
        Frozen first = get(two, "a");
        assertThat(get(one, "a")).as("one cache for the type: one shared instance").isSameAs(first);
        FrozenView v = get(view, "a");
        assertThat(v).isInstanceOf(FrozenView.class).isEqualTo(new FrozenView("a", 1, Tier.GOLD, Instant.EPOCH, null));
        assertThat(get(view, "a")).isInstanceOf(FrozenView.class).isEqualTo(v);
        assertThat(two.performanceMetrics().cacheHits() + view.performanceMetrics().cacheHits()).isEqualTo(3);
        assertThat(get(two, "a")).isSameAs(first);
    }

    @Test
    void withoutTheCacheEveryReadIsFresh() {
        EntityStore<Frozen> store = open(EmbeddedFixture.config(dir)).store(Frozen.class);
        store.save("a", new Frozen("a", 1, Tier.GOLD, Instant.EPOCH, null));
        assertThat(get(store, "a")).isNotSameAs(get(store, "a"));
    }
}
