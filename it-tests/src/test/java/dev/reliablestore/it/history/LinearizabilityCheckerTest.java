package dev.reliablestore.it.history;

import dev.reliablestore.it.history.LinearizabilityChecker.ReadModel;
import dev.reliablestore.it.history.LinearizabilityChecker.Verdict;
import org.junit.jupiter.api.Test;

import static dev.reliablestore.it.history.LinearizabilityChecker.ReadModel.LINEARIZABLE;
import static dev.reliablestore.it.history.LinearizabilityChecker.ReadModel.SESSION;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Hand-written histories with a known verdict. The order of the calls on {@link History} is the
 * interleaving: an operation is invoked at its {@code invoke} and answers at its completion call.
 */
class LinearizabilityCheckerTest {

    private final History h = new History();

    private Verdict verdict(ReadModel model) {
        LinearizabilityChecker.Result r = new LinearizabilityChecker(model).check(h);
        System.out.println(r.describe());
        return r.verdict();
    }

    /** With sessions shared per factory as in InProcessHistoryTest: clients 0 and 2 are stores of factory A, 1 and 3 of B. */
    private Verdict verdictPerFactory(ReadModel model) {
        LinearizabilityChecker.Result r = new LinearizabilityChecker(model, client -> client % 2).check(h);
        System.out.println(r.describe());
        return r.verdict();
    }

    private Op cas(int client, String value, long expected) {
        return h.invoke(client, Op.Kind.CAS, "k", value, expected);
    }

    private Op save(int client, String value) {
        return h.invoke(client, Op.Kind.SAVE, "k", value, -1);
    }

    private void read(int client, String value, long version) {
        Op r = h.read(client, "k");
        h.readOk(r, value, version);
    }

    private void written(int client, String value, long version) {
        Op w = save(client, value);
        h.writeOk(w, version);
    }

    // ---- linearizable histories ---------------------------------------------------------------------

    @Test
    void aSequentialHistoryOfEveryOperationIsLinearizable() {
        read(0, null, 0);
        Op c = cas(0, "a", 0);
        h.writeOk(c, 1);
        read(1, "a", 1);
        Op c2 = cas(1, "b", 1);
        h.writeOk(c2, 2);
        Op lost = cas(0, "x", 1);
        h.conflict(lost, 2);
        written(0, "c", 3);
        Op d = h.invoke(1, Op.Kind.CAS_DELETE, "k", null, 3);
        h.deleteOk(d, true);
        read(0, null, 0);
        Op d2 = h.invoke(0, Op.Kind.DELETE, "k", null, -1);
        h.deleteOk(d2, false);
        Op d3 = h.invoke(0, Op.Kind.CAS_DELETE, "k", null, 1);
        h.conflict(d3, 0);
        written(1, "d", 1);
        Op d4 = h.invoke(1, Op.Kind.DELETE, "k", null, -1);
        h.deleteOk(d4, true);
        assertThat(verdict(LINEARIZABLE)).isEqualTo(Verdict.LINEARIZABLE);
        assertThat(verdict(SESSION)).isEqualTo(Verdict.LINEARIZABLE);
    }

    @Test
    void aReadConcurrentWithAWriteMaySeeEitherStateAndTwoRacingCasesOneWins() {
        written(0, "a", 1);
        Op w = cas(0, "b", 1);
        Op racer = cas(1, "x", 1);
        Op r1 = h.read(2, "k");
        Op r2 = h.read(3, "k");
        h.readOk(r1, "b", 2); // sees the write before it answered
        h.conflict(racer, 2);
        h.writeOk(w, 2);
        h.readOk(r2, "a", 1); // concurrent with the write throughout: the old state is fine too
        assertThat(verdict(LINEARIZABLE)).isEqualTo(Verdict.LINEARIZABLE);
    }

    @Test
    void aWriteWithAnUnknownOutcomeMayTakeEffectLongAfterItsCallOrNever() {
        written(0, "a", 1);
        Op lost = save(1, "u1");
        h.unknown(lost, "StoreUnavailableException: … the outcome of the last write attempt is unknown");
        read(0, "a", 1);           // not applied yet
        written(0, "b", 2);
        read(2, "u1", 3);          // applied now, after b
        Op never = cas(1, "u2", 1);
        h.unknown(never, "unknown");  // its condition never holds: never applied
        read(2, "u1", 3);
        assertThat(verdict(LINEARIZABLE)).isEqualTo(Verdict.LINEARIZABLE);
        assertThat(verdict(SESSION)).isEqualTo(Verdict.LINEARIZABLE);
    }

    @Test
    void failedOperationsHaveNoEffectAndAreIgnored() {
        written(0, "a", 1);
        Op f = save(1, "never");
        h.failed(f, "StoreUnavailableException: gave up");
        Op fr = h.read(1, "k");
        h.failed(fr, "StoreUnavailableException: gave up");
        read(0, "a", 1);
        assertThat(verdict(LINEARIZABLE)).isEqualTo(Verdict.LINEARIZABLE);
    }

    @Test
    void aConflictThatCouldNotTellTheActualVersionOnlyNeedsTheVersionToDiffer() {
        written(0, "a", 1);
        Op c = cas(1, "x", 0);
        h.conflict(c, -1);
        assertThat(verdict(LINEARIZABLE)).isEqualTo(Verdict.LINEARIZABLE);
    }

    // ---- violations -----------------------------------------------------------------------------------

    /** An unknown write may take effect after its call, never before it. */
    @Test
    void anUnknownWritesValueReadBeforeItWasInvokedIsAViolation() {
        written(0, "a", 1);
        read(1, "u", 2);           // nobody has written u yet
        Op late = save(2, "u");
        h.unknown(late, "unknown");
        assertThat(verdict(LINEARIZABLE)).isEqualTo(Verdict.VIOLATION);
        assertThat(verdict(SESSION)).isEqualTo(Verdict.VIOLATION);
    }

    /** An unknown write takes effect at most once: once its value was read, the state before it cannot come back. */
    @Test
    void anUnknownWriteUndoneAfterItsValueWasReadIsAViolation() {
        written(0, "a", 1);
        Op lost = save(1, "u");
        h.unknown(lost, "unknown");
        read(2, "u", 2);
        read(2, "a", 1);           // no write in between could bring a back
        assertThat(verdict(LINEARIZABLE)).isEqualTo(Verdict.VIOLATION);
        assertThat(verdict(SESSION)).isEqualTo(Verdict.VIOLATION);
    }

    /** An unknown CAS takes effect only where its condition holds: expecting version 5, it never could here. */
    @Test
    void anUnknownCasWhoseConditionNeverHeldCannotHaveBeenApplied() {
        written(0, "a", 1);
        Op impossible = cas(1, "x", 5);
        h.unknown(impossible, "unknown");
        read(2, "x", 2);
        assertThat(verdict(LINEARIZABLE)).isEqualTo(Verdict.VIOLATION);
        assertThat(verdict(SESSION)).isEqualTo(Verdict.VIOLATION);
    }

    /** An unknown write applied twice would read as two versions of one value. */
    @Test
    void anUnknownWriteAppliedTwiceIsAViolation() {
        written(0, "a", 1);
        Op lost = save(1, "u");
        h.unknown(lost, "unknown");
        read(2, "u", 2);
        read(2, "u", 3);           // the same save cannot land again
        assertThat(verdict(LINEARIZABLE)).isEqualTo(Verdict.VIOLATION);
        assertThat(verdict(SESSION)).isEqualTo(Verdict.VIOLATION);
    }

    @Test
    void aStaleReadIsAViolation() {
        written(0, "a", 1);
        written(0, "b", 2);
        read(1, "a", 1);
        assertThat(verdict(LINEARIZABLE)).isEqualTo(Verdict.VIOLATION);
    }

    @Test
    void aLostUpdateIsAViolation() {
        written(0, "a", 1);
        written(1, "b", 2);
        written(2, "c", 2); // c was applied on top of a: b's acknowledged update is lost
        read(0, "c", 2);
        assertThat(verdict(LINEARIZABLE)).isEqualTo(Verdict.VIOLATION);
        assertThat(verdict(SESSION)).isEqualTo(Verdict.VIOLATION);
    }

    @Test
    void twoSuccessfulCasesFromTheSameVersionAreAViolation() {
        written(0, "a", 1);
        Op x = cas(1, "x", 1);
        Op y = cas(2, "y", 1);
        h.writeOk(x, 2);
        h.writeOk(y, 2);
        assertThat(verdict(LINEARIZABLE)).isEqualTo(Verdict.VIOLATION);
        assertThat(verdict(SESSION)).isEqualTo(Verdict.VIOLATION);
    }

    @Test
    void aReadOfAValueNeverWrittenIsAViolation() {
        written(0, "a", 1);
        read(1, "ghost", 1);
        assertThat(verdict(LINEARIZABLE)).isEqualTo(Verdict.VIOLATION);
        assertThat(verdict(SESSION)).isEqualTo(Verdict.VIOLATION);
    }

    @Test
    void aReadOfAValueWithTheWrongVersionIsAViolation() {
        written(0, "a", 1);
        written(0, "b", 2);
        read(1, "b", 1);
        assertThat(verdict(LINEARIZABLE)).isEqualTo(Verdict.VIOLATION);
        assertThat(verdict(SESSION)).isEqualTo(Verdict.VIOLATION);
    }

    @Test
    void aVersionGoingBackwardsIsAViolation() {
        written(0, "a", 1);
        written(0, "b", 2);
        read(1, "b", 2);
        written(1, "c", 1); // no delete in between: the version went back
        assertThat(verdict(LINEARIZABLE)).isEqualTo(Verdict.VIOLATION);
        assertThat(verdict(SESSION)).isEqualTo(Verdict.VIOLATION);
    }

    @Test
    void aReadOfAWriteInvokedAfterTheReadAnsweredIsAViolation() {
        written(0, "a", 1);
        read(1, "b", 2);
        written(0, "b", 2);
        assertThat(verdict(LINEARIZABLE)).isEqualTo(Verdict.VIOLATION);
        assertThat(verdict(SESSION)).isEqualTo(Verdict.VIOLATION);
    }

    @Test
    void aReadOfAWriteThatFailedWithoutEffectIsAViolation() {
        written(0, "a", 1);
        Op f = save(1, "f");
        h.failed(f, "StoreUnavailableException: not applied");
        read(2, "f", 2);
        assertThat(verdict(LINEARIZABLE)).isEqualTo(Verdict.VIOLATION);
        assertThat(verdict(SESSION)).isEqualTo(Verdict.VIOLATION);
    }

    @Test
    void aConflictWhileTheExpectedVersionWasStoredIsAViolationOfLinearizability() {
        written(0, "a", 1);
        Op c = cas(1, "x", 1);
        h.conflict(c, 0); // decided on a stale view that still showed no entity
        assertThat(verdict(LINEARIZABLE)).isEqualTo(Verdict.VIOLATION);
        // under SESSION a conflict is an observation of the client's view: client 1 saw nothing yet
        assertThat(verdict(SESSION)).isEqualTo(Verdict.LINEARIZABLE);
    }

    @Test
    void anUnconditionalDeleteThatFoundNothingWhileAnEntityWasStoredIsAViolationOfLinearizability() {
        written(0, "a", 1);
        Op d = h.invoke(1, Op.Kind.DELETE, "k", null, -1);
        h.deleteOk(d, false);
        assertThat(verdict(LINEARIZABLE)).isEqualTo(Verdict.VIOLATION);
        assertThat(verdict(SESSION)).isEqualTo(Verdict.LINEARIZABLE);
    }

    // ---- the weaker SESSION rule for plain reads ------------------------------------------------------

    @Test
    void underSessionAnotherClientMayReadAnOlderStateButNotOneOlderThanItSawOrWrote() {
        written(0, "a", 1);
        written(0, "b", 2);
        read(1, "a", 1);           // client 1 lags: fine under SESSION, not linearizable
        assertThat(verdict(SESSION)).isEqualTo(Verdict.LINEARIZABLE);
        assertThat(verdict(LINEARIZABLE)).isEqualTo(Verdict.VIOLATION);
        read(1, "b", 2);
        read(1, "a", 1);           // and then goes back: monotonic reads violated
        assertThat(verdict(SESSION)).isEqualTo(Verdict.VIOLATION);
    }

    @Test
    void underSessionAClientReadsItsOwnWrites() {
        written(0, "a", 1);
        written(1, "b", 2);
        read(1, "a", 1);           // older than its own acknowledged write
        assertThat(verdict(SESSION)).isEqualTo(Verdict.VIOLATION);
    }

    @Test
    void underSessionAClientDoesNotReadBehindItsOwnDelete() {
        written(0, "a", 1);
        Op d = h.invoke(1, Op.Kind.DELETE, "k", null, -1);
        h.deleteOk(d, true);
        read(1, "a", 1);
        assertThat(verdict(SESSION)).isEqualTo(Verdict.VIOLATION);
    }

    @Test
    void underSessionAbsentStatesAfterDifferentDeletesAreTold() {
        // a, deleted, b, deleted: a client that saw b cannot then see a, but may see the absence after b
        written(0, "a", 1);
        Op d = h.invoke(0, Op.Kind.DELETE, "k", null, -1);
        h.deleteOk(d, true);
        written(0, "b", 1);
        Op d2 = h.invoke(0, Op.Kind.DELETE, "k", null, -1);
        h.deleteOk(d2, true);
        read(1, null, 0);
        read(1, "b", 1);
        read(1, null, 0);
        assertThat(verdict(SESSION)).isEqualTo(Verdict.LINEARIZABLE);
        read(1, "a", 1);
        assertThat(verdict(SESSION)).isEqualTo(Verdict.VIOLATION);
    }

    @Test
    void anUnknownWriteByAClientDoesNotRaiseItsOwnFloor() {
        written(0, "a", 1);
        Op u = save(1, "u");
        h.unknown(u, "unknown");
        read(1, "a", 1);   // the unknown write may land later (or never)
        read(0, "u", 2);
        assertThat(verdict(SESSION)).isEqualTo(Verdict.LINEARIZABLE);
        assertThat(verdict(LINEARIZABLE)).isEqualTo(Verdict.LINEARIZABLE);
    }

    // ---- sessions shared per factory: a store does not observe behind what its factory wrote or observed before -

    /** Not behind a write that another store of the factory had acknowledged before the read began. */
    @Test
    void perFactoryAStoreDoesNotReadBehindAWriteItsFactoryAcknowledgedBefore() {
        written(0, "c0-1", 1);
        written(0, "c0-2", 2);
        read(2, "c0-1", 1);        // c2, a store of c0's factory, reads behind v2, acknowledged before
        Op c = cas(2, "c2-1", 1);
        h.conflict(c, 2);
        read(2, "c0-2", 2);
        assertThat(verdictPerFactory(SESSION)).isEqualTo(Verdict.VIOLATION);
        assertThat(verdictPerFactory(ReadModel.CACHED)).isEqualTo(Verdict.VIOLATION);
        // per client, c2 had written and observed nothing yet: SESSION accepts it
        assertThat(verdict(SESSION)).isEqualTo(Verdict.LINEARIZABLE);
        assertThat(verdict(LINEARIZABLE)).isEqualTo(Verdict.VIOLATION);
    }

    /**
     * A write of the factory that has not answered when the read begins does not bind it, even where the write must
     * take effect before the read (c1's compare-and-set on its version answered before the read began).
     */
    @Test
    void perFactoryAWriteOfTheFactoryStillRunningWhenTheReadBeganDoesNotBindIt() {
        written(0, "a", 1);
        Op w = save(0, "b");       // factory A's write, in flight ...
        Op c = cas(1, "c", 2);     // ... factory B's CAS on its version 2 ...
        h.writeOk(c, 3);
        read(2, "a", 1);           // ... and A's other store reads a: A's cache has not got b yet
        h.writeOk(w, 2);
        assertThat(verdictPerFactory(SESSION)).isEqualTo(Verdict.LINEARIZABLE);
        assertThat(verdictPerFactory(ReadModel.CACHED)).isEqualTo(Verdict.LINEARIZABLE);
        assertThat(verdict(LINEARIZABLE)).isEqualTo(Verdict.VIOLATION);
    }

    /** Not behind what another store of the factory read before, nor, under SESSION, what its conflict reported. */
    @Test
    void perFactoryAStoreDoesNotReadBehindWhatItsFactoryObservedBefore() {
        written(1, "a", 1);
        written(1, "b", 2);
        read(2, "a", 1);           // factory A behind factory B's writes: allowed
        Op r = h.read(0, "k");
        read(2, "a", 1);           // still allowed: c0's read, concurrent, has not answered
        h.readOk(r, "b", 2);
        assertThat(verdictPerFactory(SESSION)).isEqualTo(Verdict.LINEARIZABLE);
        read(2, "a", 1);           // behind what c0 of its factory read before
        assertThat(verdictPerFactory(SESSION)).isEqualTo(Verdict.VIOLATION);
        assertThat(verdictPerFactory(ReadModel.CACHED)).isEqualTo(Verdict.VIOLATION);
        assertThat(verdict(SESSION)).isEqualTo(Verdict.LINEARIZABLE);
    }

    @Test
    void perFactoryAConflictOfTheFactoryBindsItsStoresUnderSessionOnly() {
        written(1, "a", 1);
        written(1, "b", 2);
        Op c = cas(0, "x", 1);
        h.conflict(c, 2);          // c0 of factory A observes v2 in its conflict
        read(2, "a", 1);
        assertThat(verdictPerFactory(SESSION)).isEqualTo(Verdict.VIOLATION);
        assertThat(verdictPerFactory(ReadModel.CACHED)).isEqualTo(Verdict.LINEARIZABLE);
        assertThat(verdict(SESSION)).isEqualTo(Verdict.LINEARIZABLE);
    }

    @Test
    void perFactoryTheStoresOfAnotherFactoryDoNotBind() {
        written(1, "a", 1);
        written(1, "b", 2);
        read(3, "b", 2);           // factory B wrote and read b ...
        read(2, "a", 1);           // ... factory A may still read a
        read(0, "a", 1);
        assertThat(verdictPerFactory(SESSION)).isEqualTo(Verdict.LINEARIZABLE);
    }

    @Test
    void groupsOfClientsAreRefusedUnderLinearizable() {
        assertThatThrownBy(() -> new LinearizabilityChecker(LINEARIZABLE, client -> client % 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("SESSION and CACHED");
    }

    // ---- CACHED: conflicts are decided on the cache but report a fresh read -----------------------------

    @Test
    void underCachedAConflictMayReportANewerVersionThanTheClientsNextRead() {
        written(0, "a", 1);
        read(1, "a", 1);           // client 1 caches a
        written(0, "b", 2);
        Op c = cas(1, "x", 1);
        h.conflict(c, 2);          // the commit failed and a fresh read found v2 ...
        read(1, "a", 1);           // ... which the cache does not learn
        Op c2 = cas(1, "y", 2);
        h.conflict(c2, 1);         // decided on the cached v1: a false conflict, as old as the client's last read
        assertThat(verdict(ReadModel.CACHED)).isEqualTo(Verdict.LINEARIZABLE);
        assertThat(verdict(SESSION)).isEqualTo(Verdict.VIOLATION);
        assertThat(verdict(LINEARIZABLE)).isEqualTo(Verdict.VIOLATION);
    }

    @Test
    void underCachedReadsDoNotGoBackNorBehindTheClientsOwnWrites() {
        written(0, "a", 1);
        written(0, "b", 2);
        read(1, "b", 2);
        read(1, "a", 1);
        assertThat(verdict(ReadModel.CACHED)).isEqualTo(Verdict.VIOLATION);
    }

    @Test
    void underCachedAConflictCannotBeOlderThanTheClientsLastRead() {
        written(0, "a", 1);
        written(0, "b", 2);
        read(1, "b", 2);
        Op c = cas(1, "x", 3);
        h.conflict(c, 1);
        assertThat(verdict(ReadModel.CACHED)).isEqualTo(Verdict.VIOLATION);
    }

    @Test
    void underCachedAClientReadsItsOwnWrites() {
        written(0, "a", 1);
        written(1, "b", 2);
        read(1, "a", 1);
        assertThat(verdict(ReadModel.CACHED)).isEqualTo(Verdict.VIOLATION);
    }

    // ---- bounds ---------------------------------------------------------------------------------------

    @Test
    void reachingTheSearchLimitIsInconclusiveAndFails() {
        for (int i = 1; i <= 6; i++) {
            written(i % 3, "v" + i, i);
            read((i + 1) % 3, "v" + i, i);
        }
        LinearizabilityChecker.Result r = new LinearizabilityChecker(LINEARIZABLE, 5).check(h);
        assertThat(r.verdict()).isEqualTo(Verdict.INCONCLUSIVE);
        assertThat(r.ok()).isFalse();
        assertThat(r.describe()).contains("search limit of 5 steps reached");
        assertThat(new LinearizabilityChecker(LINEARIZABLE).check(h).ok()).isTrue();
    }

    @Test
    void moreThanFourClientsOnOneKeyAreRefused() {
        for (int c = 0; c < 5; c++) {
            read(c, null, 0);
        }
        assertThatThrownBy(() -> new LinearizabilityChecker(LINEARIZABLE).check(h))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("5 clients");
    }

    @Test
    void aClientWithTwoOperationsAtOnceIsRefused() {
        Op a = h.read(0, "k");
        Op b = h.read(0, "k");
        h.readOk(a, null, 0);
        h.readOk(b, null, 0);
        assertThatThrownBy(() -> new LinearizabilityChecker(SESSION).check(h))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not sequential");
    }

    @Test
    void keysAreCheckedApartAndTheReportNamesTheOneThatFailed() {
        Op w = h.invoke(0, Op.Kind.SAVE, "good", "a", -1);
        h.writeOk(w, 1);
        Op w2 = h.invoke(0, Op.Kind.SAVE, "bad", "b", -1);
        h.writeOk(w2, 1);
        Op r = h.read(1, "bad");
        h.readOk(r, null, 0);
        LinearizabilityChecker.Result result = new LinearizabilityChecker(LINEARIZABLE).check(h);
        assertThat(result.anomalies()).isEqualTo(1);
        assertThat(result.describe()).contains("key good: LINEARIZABLE").contains("key bad: VIOLATION")
                .contains("#2 c1 get(bad) -> absent");
    }
}
