package dev.reliablestore.registry.clusapi;

import dev.reliablestore.registry.Change;
import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ChangeListener;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.ReadBatch;
import dev.reliablestore.registry.ReadBatchResult;
import dev.reliablestore.registry.RegistryLimitException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.Watch;
import dev.reliablestore.registry.WriteBatch;
import dev.reliablestore.registry.conformance.ClusterRegistryConformance;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The clusapi backend over the in-memory fake of clusapi.dll passes the whole conformance suite,
 * plus what the contract says about case and the fake (like Windows) would break without the
 * backend's name mapping: names that differ only in case are distinct.
 */
class ClusapiFakeConformanceTest extends ClusterRegistryConformance {

    /** Names equal to one another under some case folding, each a distinct contract name. */
    static final List<String> CASE_VARIANTS = List.of("b", "B", "ß", "ẞ", "σ", "Σ", "ς", "i", "I", "İ", "ı", "ǅ", "Ǆ", "ǆ",
            "k", "K", "\u212A", "^b", "^B", "^_0042");

    protected FakeClusApi fake;

    /** Hook for the variant with the other reading of the unverified facts. */
    protected FakeClusApi newFake() {
        return new FakeClusApi("FAKECLUSTER", "NODE1", "NODE2", "NODE3");
    }

    protected Map<String, String> options() {
        return Map.of("localNode", "NODE1");
    }

    @Override
    protected ClusterRegistry openRegistry() {
        fake = newFake();
        return open();
    }

    private ClusterRegistry open() {
        ClusapiOptions o = ClusapiOptions.parse(URI.create("clusapi://FAKECLUSTER/Software/ReliableStoreTest"), options());
        return ClusapiRegistry.open(o, new ClusapiNatives(fake, fake, fake, fake.waiter()));
    }

    @Override
    protected ClusterRegistry reopen(ClusterRegistry current) {
        current.close();
        return open();
    }

    @Override
    protected boolean expireFeedHistory(ClusterRegistry current) {
        return expire(current);
    }

    /** Moves the registry's clock past feedRetention and prunes, as the next commit would. */
    static boolean expire(ClusterRegistry current) {
        ClusapiRegistry r = (ClusapiRegistry) current;
        r.useClock(Clock.offset(Clock.systemUTC(), Duration.ofMillis(r.options().feedRetentionMs()).plusMinutes(1)));
        r.pruneFeedHistory();
        return true;
    }

    // =============================================================================================
    // case: the Windows cluster registry folds it, the contract does not
    // =============================================================================================

    @Test
    void valuesThatDifferOnlyInCaseAreDistinct() throws Exception {
        RegistryPath k = p("Entities/TckDocument");
        WriteBatch.Builder b = WriteBatch.builder();
        for (String name : CASE_VARIANTS) {
            b.setValue(k, name, sz("value of " + name));
        }
        long seq = commit(b).sequence();
        for (String name : CASE_VARIANTS) {
            assertThat(registry.getValue(k, name)).as(name).contains(new VersionedValue(sz("value of " + name), seq));
        }
        assertThat(registry.values(k).keySet()).containsExactlyElementsOf(CASE_VARIANTS.stream().sorted().toList());
        List<ReadBatch.Read> reads = new ArrayList<>();
        CASE_VARIANTS.forEach(n -> reads.add(new ReadBatch.ValueRead(k, n)));
        ReadBatchResult r = registry.read(ReadBatch.of(reads));
        for (int i = 0; i < CASE_VARIANTS.size(); i++) {
            assertThat(r.value(i)).as(CASE_VARIANTS.get(i)).map(VersionedValue::value).contains(sz("value of " + CASE_VARIANTS.get(i)));
        }

        // deleting one, and conditions on one, concern that one only
        long seq2 = commit(WriteBatch.builder().requireRevision(k, "b", seq).deleteValue(k, "B").setValue(k, "Σ", sz("new"))).sequence();
        assertThat(registry.getValue(k, "B")).isEmpty();
        assertThat(registry.getValue(k, "b")).map(VersionedValue::revision).contains(seq);
        assertThat(registry.getValue(k, "Σ")).contains(new VersionedValue(sz("new"), seq2));
        assertThat(registry.getValue(k, "σ")).contains(new VersionedValue(sz("value of σ"), seq));
        commit(WriteBatch.builder().requireValueAbsent(k, "B").requireValueExists(k, "b").requireRevision(k, "ς", seq)
                .requireValueEquals(k, "ς", sz("value of ς")));
        assertThatThrownBy(() -> commit(WriteBatch.builder().requireRevision(k, "σ", seq).requireRevision(k, "Σ", seq)))
                .isInstanceOfSatisfying(ConditionFailedException.class, e -> assertThat(e.failedCommandIndex()).isEqualTo(1));
        assertThatThrownBy(() -> commit(WriteBatch.builder().requireValueExists(k, "b").requireValueExists(k, "B")))
                .isInstanceOfSatisfying(ConditionFailedException.class, e -> assertThat(e.failedCommandIndex()).isEqualTo(1));

        ClusterRegistry again = reopen(registry);
        registry = again;
        assertThat(registry.values(k)).hasSize(CASE_VARIANTS.size() - 1).doesNotContainKey("B");
    }

    @Test
    void keysThatDifferOnlyInCaseAreDistinct() {
        for (String type : List.of("TckDocument", "tckdocument", "TCKDOCUMENT")) {
            set("Entities/" + type + "/_versions", "id", sz(type));
        }
        commit(WriteBatch.builder().createKey(p("Σ")).createKey(p("ς")).createKey(p("σ")).createKey(p("İ/ı/I/i")));
        assertThat(registry.subkeys(p("Entities"))).containsExactly("TCKDOCUMENT", "TckDocument", "tckdocument");
        assertThat(registry.subkeys(RegistryPath.root())).containsExactly("Entities", "İ", "Σ", "ς", "σ");
        assertThat(registry.subkeys(p("İ"))).containsExactly("ı");
        assertThat(registry.keyExists(p("İ/ı/I/i"))).isTrue();
        assertThat(registry.keyExists(p("i"))).isFalse();
        assertThat(registry.keyExists(p("I"))).isFalse();

        commit(WriteBatch.builder().requireKeyExists(p("Entities/tckdocument")).deleteKey(p("Entities/TckDocument")).deleteKey(p("σ")));
        assertThat(registry.subkeys(p("Entities"))).containsExactly("TCKDOCUMENT", "tckdocument");
        assertThat(registry.getValue(p("Entities/tckdocument/_versions"), "id")).map(VersionedValue::value).contains(sz("tckdocument"));
        assertThat(registry.subkeys(RegistryPath.root())).containsExactly("Entities", "İ", "Σ", "ς");
        assertThatThrownBy(() -> commit(WriteBatch.builder().requireKeyAbsent(p("Entities/TckDocument")).requireKeyAbsent(p("Entities/tckdocument"))))
                .isInstanceOfSatisfying(ConditionFailedException.class, e -> assertThat(e.failedCommandIndex()).isEqualTo(1));
    }

    @SuppressWarnings("try") // the resource is held open for the body, never used by name
    @Test
    void theChangeFeedNamesCaseVariantsAsWritten() {
        List<ChangeBatch> batches = new CopyOnWriteArrayList<>();
        List<String> resyncs = new CopyOnWriteArrayList<>();
        try (Watch w = registry.watch(p("Data"), new ChangeListener() {
            @Override
            public void onBatch(ChangeBatch batch) {
                batches.add(batch);
            }

            @Override
            public void onResync(String reason) {
                resyncs.add(reason);
            }
        })) {
            long seq = commit(WriteBatch.builder().setValue(p("Data/K"), "b", sz("1")).setValue(p("Data/k"), "B", sz("2"))
                    .setValue(p("Data/k"), "^B", sz("3")).deleteValue(p("Data/K"), "b")).sequence();
            await().atMost(feedTimeout()).until(() -> !batches.isEmpty());
            assertThat(batches).containsExactly(new ChangeBatch(seq, List.of(
                    new Change.KeyCreated(p("Data")), new Change.KeyCreated(p("Data/K")),
                    new Change.ValueSet(p("Data/K"), "b", new VersionedValue(sz("1"), seq)),
                    new Change.KeyCreated(p("Data/k")),
                    new Change.ValueSet(p("Data/k"), "B", new VersionedValue(sz("2"), seq)),
                    new Change.ValueSet(p("Data/k"), "^B", new VersionedValue(sz("3"), seq)),
                    new Change.ValueDeleted(p("Data/K"), "b"))));
            assertThat(resyncs).isEmpty();
        }
    }

    @Test
    void aNameWhoseMappedFormIsOverWindowsKeyNameLimitIsRefusedBeforeAnythingIsWritten() {
        set("x", "v", RegistryValue.dword(1));
        long before = registry.currentSequence();
        String tooLong = "A".repeat(128); // 256 characters mapped
        WriteBatch batch = WriteBatch.builder().setValue(p("x"), "w", RegistryValue.dword(2)).createKey(p("x").child(tooLong)).build();
        assertThatThrownBy(() -> registry.commit(batch))
                .isInstanceOfSatisfying(RegistryLimitException.class, e -> assertThat(e.limit()).isEqualTo(255))
                .hasMessageContaining("(128 characters)").hasMessageContaining("256 characters").hasMessageContaining("255");
        assertThatThrownBy(() -> registry.commitAsync(batch)).isInstanceOf(RegistryLimitException.class);
        assertThatThrownBy(() -> registry.getValue(p("x").child(tooLong), "v")).isInstanceOf(RegistryLimitException.class);
        assertThat(registry.currentSequence()).isEqualTo(before);
        assertThat(registry.values(p("x"))).containsOnlyKeys("v");
        assertThat(registry.subkeys(p("x"))).isEmpty();

        // at the limit, and long value names (at most 6 x 255 mapped) are fine
        String fits = "A".repeat(127) + "a";
        String longValue = "ǅ".repeat(255);
        commit(WriteBatch.builder().setValue(p("x").child(fits), longValue, RegistryValue.dword(3)));
        assertThat(registry.subkeys(p("x"))).containsExactly(fits);
        assertThat(registry.values(p("x").child(fits))).containsOnlyKeys(longValue);
    }
}
