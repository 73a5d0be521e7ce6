package dev.reliablestore.it.history;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.it.history.LinearizabilityChecker.ReadModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The checker against real concurrency: four client threads on three keys of the in-memory provider
 * (linearizable: it must pass), and of the same store made wrong on purpose ({@link BrokenStore}: it
 * must be caught). A round that happens to interleave harmlessly is possible in principle, so a
 * broken store gets up to ten rounds; in practice the first one catches it.
 */
class CheckerCatchesBrokenStoresTest {

    private static final int CLIENTS = 4;
    private static final int STEPS = 600;
    private static final List<String> KEYS = List.of("k0", "k1", "k2");

    private StoreFactory factory;

    @AfterEach
    void close() {
        if (factory != null) {
            factory.close();
        }
    }

    private EntityStore<Register> memoryStore() {
        if (factory != null) {
            factory.close();
        }
        factory = Persistence.openFactory("memory", Map.of());
        return factory.store(Register.class);
    }

    private Workload.Figures round(EntityStore<Register> store, int round, ReadModel model) throws Exception {
        Workload w = new Workload("round-" + round, 42 + round);
        for (int c = 0; c < CLIENTS; c++) {
            w.client(store, KEYS, RegisterClient.Mix.DEFAULT);
        }
        w.run(STEPS);
        Workload.Figures f = w.check(new LinearizabilityChecker(model));
        System.out.println(f);
        return f;
    }

    @Test
    void aCorrectStoreUnderConcurrencyIsLinearizable() throws Exception {
        for (int round = 0; round < 3; round++) {
            Workload.Figures f = round(memoryStore(), round, ReadModel.LINEARIZABLE);
            assertThat(f.check().ok()).as(f.check().describe()).isTrue();
            assertThat(f.operations()).isEqualTo((long) CLIENTS * STEPS);
            assertThat(f.failed() + f.unknown()).isZero();
        }
    }

    @Test
    void aCacheThatServesStaleReadsIsCaught() throws Exception {
        assertCaught(BrokenStore.Breakage.STALE_CACHE, ReadModel.LINEARIZABLE);
        assertCaught(BrokenStore.Breakage.STALE_CACHE, ReadModel.SESSION);
    }

    @Test
    void aCompareAndSetThatIsNotAtomicIsCaught() throws Exception {
        assertCaught(BrokenStore.Breakage.NON_ATOMIC_CAS, ReadModel.LINEARIZABLE);
        assertCaught(BrokenStore.Breakage.NON_ATOMIC_CAS, ReadModel.SESSION);
    }

    private void assertCaught(BrokenStore.Breakage breakage, ReadModel model) throws Exception {
        for (int round = 0; round < 10; round++) {
            Workload.Figures f = round(new BrokenStore(memoryStore(), breakage), round, model);
            if (f.check().verdict() == LinearizabilityChecker.Verdict.VIOLATION) {
                System.out.println(breakage + " caught under " + model + " in round " + round + ":\n" + f.check().describe());
                return;
            }
            assertThat(f.check().verdict()).as("never inconclusive").isEqualTo(LinearizabilityChecker.Verdict.LINEARIZABLE);
        }
        throw new AssertionError(breakage + " was not caught under " + model + " in 10 rounds");
    }
}
