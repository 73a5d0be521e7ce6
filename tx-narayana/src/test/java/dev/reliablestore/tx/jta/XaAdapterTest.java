package dev.reliablestore.tx.jta;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.spi.tx.AbstractTransactionBranch;
import dev.reliablestore.spi.tx.PendingWrite;
import dev.reliablestore.spi.tx.TransactionBranch;
import dev.reliablestore.spi.tx.TransactionId;
import dev.reliablestore.spi.tx.TransactionalResource;
import dev.reliablestore.spi.tx.UnknownTransactionException;
import dev.reliablestore.tx.testing.FileParticipant;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class XaAdapterTest {

    private static final AtomicInteger SEQ = new AtomicInteger();

    @TempDir
    Path dir;

    FileParticipant participant;
    XaResources adapters;
    XAResource xa;

    @BeforeEach
    void setUp() {
        participant = new FileParticipant(dir);
        adapters = XaResources.of(participant);
        xa = adapters.adapter();
    }

    private static Xid xid() {
        return new SimpleXid(TransactionId.of(4711, "gtrid-" + SEQ.incrementAndGet(), "b1"));
    }

    private EntityStore<String> view(Xid xid) {
        return participant.branch(SimpleXid.toId(xid)).orElseThrow().store("Order", String.class);
    }

    private EntityStore<String> committed() {
        return participant.store("Order", String.class);
    }

    /** A new branch that saved {@code value} under {@code id} and is prepared. */
    private Xid preparedSaving(String id, String value) throws XAException {
        Xid x = endedSaving(id, value);
        assertThat(xa.prepare(x)).isEqualTo(XAResource.XA_OK);
        return x;
    }

    /** A new branch that saved {@code value} under {@code id} and is ended (ready to prepare). */
    private Xid endedSaving(String id, String value) throws XAException {
        Xid x = xid();
        xa.start(x, XAResource.TMNOFLAGS);
        view(x).save(id, value);
        xa.end(x, XAResource.TMSUCCESS);
        return x;
    }

    private static int code(Throwable e) {
        return ((XAException) e).errorCode;
    }

    @Test
    void readOnlyWorkVotesRdonlyAndIsFinished() throws XAException {
        committed().save("o", "x");
        Xid x = xid();
        xa.start(x, XAResource.TMNOFLAGS);
        assertThat(view(x).get("o")).isPresent();
        xa.end(x, XAResource.TMSUCCESS);
        assertThat(xa.prepare(x)).isEqualTo(XAResource.XA_RDONLY);
        assertThatThrownBy(() -> xa.commit(x, false)).satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_NOTA));
        assertThat(participant.preparedRecordFiles()).isEmpty();
    }

    @Test
    void twoPhaseCommitPreparesDurablyThenApplies() throws XAException {
        Xid x = preparedSaving("o", "x");
        assertThat(participant.preparedRecordFiles()).hasSize(1);
        assertThat(participant.isLocked("Order", "o")).isTrue();
        assertThat(committed().exists("o")).as("readers see the last committed value").isFalse();
        xa.commit(x, false);
        assertThat(committed().get("o")).map(Versioned::value).contains("x");
        assertThat(participant.preparedRecordFiles()).isEmpty();
        assertThat(participant.isLocked("Order", "o")).isFalse();
    }

    @Test
    void onePhaseCommitAndRollback() throws XAException {
        Xid x = xid();
        xa.start(x, XAResource.TMNOFLAGS);
        view(x).save("o", "x");
        xa.end(x, XAResource.TMSUCCESS);
        xa.commit(x, true);
        assertThat(committed().exists("o")).isTrue();
        assertThat(participant.prepareCount()).isZero();

        Xid y = preparedSaving("p", "y");
        xa.rollback(y);
        assertThat(committed().exists("p")).isFalse();
        assertThat(participant.preparedRecordFiles()).isEmpty();
        assertThatThrownBy(() -> xa.rollback(y)).satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_NOTA));
    }

    @Test
    void unknownXidsAreXaerNota() {
        Xid x = xid();
        assertThatThrownBy(() -> xa.end(x, XAResource.TMSUCCESS)).satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_NOTA));
        assertThatThrownBy(() -> xa.prepare(x)).satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_NOTA));
        assertThatThrownBy(() -> xa.commit(x, true)).satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_NOTA));
        assertThatThrownBy(() -> xa.commit(x, false)).satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_NOTA));
        assertThatThrownBy(() -> xa.rollback(x)).satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_NOTA));
        assertThatThrownBy(() -> xa.forget(x)).satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_NOTA));
        assertThatThrownBy(() -> xa.start(x, XAResource.TMJOIN)).satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_NOTA));
    }

    @Test
    void protocolErrorsAreXaerProtoAndBadArgumentsXaerInval() throws XAException {
        Xid x = xid();
        xa.start(x, XAResource.TMNOFLAGS);
        assertThatThrownBy(() -> xa.start(x, XAResource.TMNOFLAGS)).satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_DUPID));
        assertThatThrownBy(() -> xa.prepare(x)).as("prepare before end").satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_PROTO));
        assertThatThrownBy(() -> xa.start(x, XAResource.TMRESUME)).as("resume of a branch not suspended")
                .satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_PROTO));
        view(x).save("o", "x");
        xa.end(x, XAResource.TMSUCCESS);
        assertThatThrownBy(() -> xa.end(x, XAResource.TMSUCCESS)).satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_PROTO));
        assertThatThrownBy(() -> xa.commit(x, false)).as("two-phase commit before prepare")
                .satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_PROTO));
        xa.prepare(x);
        assertThatThrownBy(() -> xa.commit(x, true)).as("one-phase commit after prepare")
                .satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_PROTO));
        assertThatThrownBy(() -> xa.start(x, XAResource.TMJOIN)).satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_PROTO));
        xa.commit(x, false);

        assertThatThrownBy(() -> xa.start(xid(), XAResource.TMSUCCESS)).satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_INVAL));
        assertThatThrownBy(() -> xa.setTransactionTimeout(-1)).satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_INVAL));
        assertThatThrownBy(() -> xa.start(new SimpleXidLike(-1), XAResource.TMNOFLAGS))
                .satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_INVAL))
                .hasMessageContaining("format id");
    }

    @Test
    void suspendResumeAndJoinWorkOnTheSameBranch() throws XAException {
        Xid x = xid();
        xa.start(x, XAResource.TMNOFLAGS);
        view(x).save("a", "1");
        xa.end(x, XAResource.TMSUSPEND);
        xa.start(x, XAResource.TMRESUME);
        view(x).save("b", "2");
        xa.end(x, XAResource.TMSUCCESS);

        XAResource second = adapters.adapter();
        assertThat(xa.isSameRM(second)).isTrue();
        assertThat(xa.isSameRM(XaResources.of(new FileParticipant(dir.resolve("other"))).adapter())).isFalse();
        second.start(x, XAResource.TMJOIN);
        view(x).save("c", "3");
        second.end(x, XAResource.TMSUCCESS);
        xa.commit(x, true);
        assertThat(committed().getAll()).extracting(Versioned::id).containsExactly("a", "b", "c");
    }

    @Test
    void adaptersOfOneOwnerShareBranchesAndTwoOwnersShareNothing() throws XAException {
        XAResource second = adapters.adapter();
        Xid x = xid();
        xa.start(x, XAResource.TMNOFLAGS);
        view(x).save("a", "1");
        xa.end(x, XAResource.TMSUCCESS);
        second.start(x, XAResource.TMJOIN);
        view(x).save("b", "2");
        second.end(x, XAResource.TMSUCCESS);
        assertThat(second.prepare(x)).isEqualTo(XAResource.XA_OK);

        // another owner of the same resource: not the same RM, and none of the first owner's branches
        XAResource stranger = XaResources.of(participant).adapter();
        assertThat(stranger.isSameRM(xa)).isFalse();
        assertThatThrownBy(() -> stranger.start(x, XAResource.TMJOIN)).satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_NOTA));
        assertThatThrownBy(() -> stranger.prepare(x)).satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_NOTA));
        Xid y = xid();
        stranger.start(y, XAResource.TMNOFLAGS);
        assertThatThrownBy(() -> xa.end(y, XAResource.TMSUCCESS)).as("nor does the first see the stranger's")
                .satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_NOTA));
        stranger.end(y, XAResource.TMSUCCESS);
        stranger.rollback(y);

        xa.commit(x, false);
        assertThat(committed().getAll()).extracting(Versioned::id).containsExactly("a", "b");
        assertThatThrownBy(() -> second.commit(x, false)).as("finished for every adapter of the owner")
                .satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_NOTA));
    }

    @Test
    void endWithTmfailMakesPrepareVoteNoAfterRollingBack() throws XAException {
        Xid x = xid();
        xa.start(x, XAResource.TMNOFLAGS);
        view(x).save("o", "x");
        xa.end(x, XAResource.TMFAIL);
        assertThatThrownBy(() -> xa.prepare(x)).satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XA_RBROLLBACK));
        assertThat(participant.branch(SimpleXid.toId(x))).isEmpty();
        assertThat(participant.preparedRecordFiles()).isEmpty();
        assertThat(committed().exists("o")).isFalse();
    }

    @Test
    void aVersionConflictVotesXaRbrollbackAndAnUnreachableStoreIsXaerRmfail() throws XAException {
        committed().save("o", "v1");
        Xid x = xid();
        xa.start(x, XAResource.TMNOFLAGS);
        view(x).save("o", "mine", 1);
        xa.end(x, XAResource.TMSUCCESS);
        committed().save("o", "theirs");
        assertThatThrownBy(() -> xa.prepare(x)).satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XA_RBROLLBACK))
                .hasMessageContaining("version conflict");
        assertThat(committed().get("o")).map(Versioned::value).contains("theirs");
        assertThat(participant.preparedRecordFiles()).isEmpty();

        Xid y = preparedSaving("p", "y");
        participant.unavailable(true);
        assertThatThrownBy(() -> xa.commit(y, false)).satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_RMFAIL));
        participant.unavailable(false);
        xa.commit(y, false); // the branch stayed prepared: the commit can be repeated
        assertThat(committed().exists("p")).isTrue();
    }

    @Test
    void aPhaseTwoCommitThatFailsForGoodIsXaerRmfailNotARollback() throws XAException {
        Xid x = preparedSaving("o", "x");
        // not retryable, yet the decision to commit stands: XAER_RMERR would tell Narayana "rolled back"
        participant.onCommit(() -> {
            throw new PersistenceException("disk full (injected)");
        });
        assertThatThrownBy(() -> xa.commit(x, false))
                .satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_RMFAIL))
                .hasMessageContaining("stays prepared").hasMessageContaining("disk full (injected)");
        assertThat(participant.preparedRecordFiles()).hasSize(1);
        // an IllegalStateException from the participant is about its data, not the protocol: XAER_PROTO would read as a heuristic rollback
        participant.onCommit(() -> {
            throw new IllegalStateException("the stamp of Order/o is unreadable (injected)");
        });
        assertThatThrownBy(() -> xa.commit(x, false))
                .satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_RMFAIL)).hasMessageContaining("stays prepared");
        participant.onCommit(() -> { });
        xa.commit(x, false);
        assertThat(committed().get("o")).map(Versioned::value).contains("x");
        assertThat(participant.preparedRecordFiles()).isEmpty();
    }

    /**
     * A prepared branch that recovery finished meanwhile through another adapter: committing (or
     * rolling back) it again through its own is done, not XAER_PROTO (a heuristic rollback to
     * Narayana) nor XAER_RMFAIL (retried for ever), and its association goes too: kept, the resource
     * would never count as idle and never leave the recovery scans. (A participant that answers
     * UnknownTransactionException instead gets XAER_NOTA, and the association goes as well.)
     */
    @Test
    void aBranchFinishedMeanwhileThroughAnotherAdapterIsDoneAndLeavesNoAssociation() throws XAException {
        Map<?, ?> table = ((BranchAssociations) adapters).table();
        Xid committed = preparedSaving("o", "x");
        Xid rolledBack = preparedSaving("p", "y");
        XAResource other = XaResources.of(participant).adapter(); // knows no association: finishes by id, as recovery does
        other.commit(committed, false);
        other.rollback(rolledBack);
        assertThat(table).hasSize(2);
        xa.commit(committed, false); // done meanwhile: not a protocol error, and not a failure Narayana would retry for ever
        xa.rollback(rolledBack); // a rollback is idempotent
        assertThat(table).isEmpty();
        assertThat(committed().get("o")).map(Versioned::value).contains("x");
        assertThat(committed().exists("p")).isFalse();
    }

    /**
     * A phase-two commit that applied the writes and then failed (its audit record could not be
     * written): XAER_RMFAIL as documented, but the branch is finished and its association goes, so
     * Narayana's retry answers XAER_NOTA (committed). The association stayed, holding the branch.
     */
    @Test
    void aPhaseTwoCommitThatFailsAfterApplyingLeavesNoAssociation() throws XAException {
        Map<?, ?> table = ((BranchAssociations) adapters).table();
        Xid x = preparedSaving("o", "x");
        participant.failNextAfterCommit(new PersistenceException("the operation was committed, but its audit record could not be"
                + " written (injected)", null, true));
        assertThatThrownBy(() -> xa.commit(x, false))
                .satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_RMFAIL))
                .hasMessageContaining("took effect").hasMessageContaining("audit record could not be written (injected)");
        assertThat(table).isEmpty();
        assertThat(committed().get("o")).map(Versioned::value).contains("x");
        assertThat(participant.preparedRecordFiles()).isEmpty();
        assertThatThrownBy(() -> xa.commit(x, false)).satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_NOTA));
    }

    /** The same for a one-phase commit: XAER_RMFAIL saying it took effect (not "outcome unknown"), and no association left. */
    @Test
    void aOnePhaseCommitThatFailsAfterApplyingSaysItTookEffectAndLeavesNoAssociation() throws XAException {
        Map<?, ?> table = ((BranchAssociations) adapters).table();
        Xid x = endedSaving("o", "x");
        participant.failNextAfterCommit(new PersistenceException("the operation was committed, but its audit record could not be"
                + " written (injected)", null, true));
        assertThatThrownBy(() -> xa.commit(x, true))
                .satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_RMFAIL))
                .hasMessageContaining("took effect").hasMessageNotContaining("unknown")
                .hasMessageContaining("audit record could not be written (injected)");
        assertThat(table).isEmpty();
        assertThat(committed().get("o")).map(Versioned::value).contains("x");
        assertThatThrownBy(() -> xa.commit(x, true)).satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_NOTA));
    }

    /**
     * A rollback of a prepared branch that removed its record and then failed (its audit record) is
     * done: answered as such, with no association left. It was XAER_RMFAIL ("stays prepared").
     */
    @Test
    void aRollbackThatFailsAfterRemovingThePreparedRecordIsDone() throws XAException {
        Map<?, ?> table = ((BranchAssociations) adapters).table();
        Xid x = preparedSaving("o", "x");
        participant.failNextAfterRollback(new PersistenceException("the rollback took effect, but its audit record could not be"
                + " written (injected)", null, true));
        xa.rollback(x);
        assertThat(table).isEmpty();
        assertThat(participant.preparedRecordFiles()).isEmpty();
        assertThat(committed().exists("o")).isFalse();
    }

    @Test
    void aRollbackOfAPreparedBranchThatFailsForGoodIsXaerRmfailNotAHeuristic() throws XAException {
        Xid live = preparedSaving("o", "x");
        Xid recovered = preparedSaving("p", "y");
        // not retryable, yet the branch stays prepared: XAER_RMERR would tell Narayana "heuristic hazard", and nobody retries that
        participant.onRollback(() -> {
            throw new PersistenceException("disk full (injected)");
        });
        XAResource fresh = XaResources.of(participant).adapter(); // knows no association: rolls back by id, as recovery does
        for (Xid x : List.of(live, recovered)) {
            XAResource rm = x == live ? xa : fresh;
            assertThatThrownBy(() -> rm.rollback(x))
                    .satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_RMFAIL))
                    .hasMessageContaining("stays prepared").hasMessageContaining("disk full (injected)");
        }
        assertThat(participant.preparedRecordFiles()).hasSize(2);
        participant.onRollback(() -> { });
        xa.rollback(live);
        fresh.rollback(recovered);
        assertThat(participant.preparedRecordFiles()).isEmpty();
        assertThat(committed().exists("o")).isFalse();
        assertThat(committed().exists("p")).isFalse();
    }

    /**
     * A prepare that fails, then a rollback inside it that fails too, leaves the branch prepared: the
     * coordinator's rollback that follows must be retried (XAER_RMFAIL), not read as a heuristic hazard.
     */
    @Test
    void aRollbackAfterAFailedPrepareThatLeftTheBranchPreparedIsXaerRmfail() throws XAException {
        Xid x = endedSaving("q", "z");
        participant.failNextPrepare(new dev.reliablestore.api.StoreUnavailableException("down (injected)"));
        participant.onRollback(() -> {
            throw new PersistenceException("disk full (injected)");
        });
        assertThatThrownBy(() -> xa.prepare(x)).satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_RMFAIL));
        assertThatThrownBy(() -> xa.rollback(x)).satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_RMFAIL))
                .hasMessageContaining("stays prepared").hasMessageContaining("disk full (injected)");
        participant.onRollback(() -> { });
        xa.rollback(x);
        assertThat(committed().exists("q")).isFalse();
    }

    @Test
    void recoverListsPreparedBranchesInOneScanAndAFreshResourceFinishesThem() throws XAException {
        Xid a = preparedSaving("id-a", "v");
        Xid b = preparedSaving("id-b", "v");
        // a restart: a new participant instance over the same directory and a new adapter
        FileParticipant restarted = new FileParticipant(dir);
        XAResource recovery = XaResources.of(restarted).adapter();
        assertThatThrownBy(() -> recovery.recover(XAResource.TMNOFLAGS)).as("no scan open")
                .satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_PROTO));
        assertThatThrownBy(() -> recovery.recover(XAResource.TMSUCCESS)).satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_INVAL));
        Xid[] found = recovery.recover(XAResource.TMSTARTRSCAN);
        assertThat(found).containsExactlyInAnyOrder(a, b);
        assertThat(recovery.recover(XAResource.TMNOFLAGS)).isEmpty();
        assertThat(recovery.recover(XAResource.TMENDRSCAN)).isEmpty();
        assertThat(restarted.isLocked("Order", "id-a")).as("locks survive the restart").isTrue();
        assertThatThrownBy(() -> restarted.store("Order", String.class).save("id-a", "other"))
                .hasMessageContaining("locked by prepared transaction");

        recovery.commit(found[0].equals(a) ? found[0] : found[1], false);
        recovery.rollback(found[0].equals(a) ? found[1] : found[0]);
        assertThat(restarted.store("Order", String.class).getAll()).extracting(Versioned::id).containsExactly("id-a");
        assertThat(recovery.recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN)).isEmpty();
        assertThatThrownBy(() -> recovery.commit(a, false)).satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_NOTA));
    }

    @Test
    void aBranchPastItsTransactionTimeoutIsRolledBackAtPrepare() throws XAException {
        assertThat(xa.setTransactionTimeout(1)).isTrue();
        assertThat(xa.getTransactionTimeout()).isEqualTo(1);
        Xid x = xid();
        xa.start(x, XAResource.TMNOFLAGS);
        view(x).save("o", "x");
        xa.end(x, XAResource.TMSUCCESS);
        long started = System.nanoTime();
        await().pollDelay(Duration.ofMillis(1100)).atMost(Duration.ofSeconds(5))
                .until(() -> System.nanoTime() - started > 1_050_000_000L);
        assertThatThrownBy(() -> xa.prepare(x)).satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XA_RBTIMEOUT));
        assertThat(committed().exists("o")).isFalse();
        assertThat(participant.branch(SimpleXid.toId(x))).isEmpty();
        xa.setTransactionTimeout(0);
    }

    /**
     * A one-phase commit whose participant throws an IllegalStateException (its stored data is
     * damaged, e.g. an unreadable stamp): the adapter checked the protocol itself before the call,
     * so this is an unknown outcome (XAER_RMFAIL, as documented), not XAER_PROTO, and the branch,
     * now finished as OUTCOME_UNKNOWN, leaves no association behind.
     */
    @Test
    void aOnePhaseCommitThatFailsOnDamagedDataIsXaerRmfailAndLeavesNoAssociation() throws XAException {
        DamagedOnePhase damaged = new DamagedOnePhase(participant);
        XaResources owner = XaResources.of(damaged);
        Map<?, ?> table = ((BranchAssociations) owner).table();
        XAResource rm = owner.adapter();
        Xid x = xid();
        rm.start(x, XAResource.TMNOFLAGS);
        damaged.branch(SimpleXid.toId(x)).orElseThrow().store("Order", String.class).save("o", "x");
        rm.end(x, XAResource.TMSUCCESS);
        assertThatThrownBy(() -> rm.commit(x, true))
                .satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_RMFAIL))
                .hasMessageContaining("is unknown").hasMessageContaining("unreadable (injected)");
        assertThat(table).as("no association left behind").isEmpty();
        assertThatThrownBy(() -> rm.commit(x, true)).satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_NOTA));
    }

    /** Prepare was asked and failed: the branch may hold a prepared record, so a one-phase commit is a protocol error. */
    @Test
    void aOnePhaseCommitAfterAFailedPrepareIsXaerProtoAndKeepsTheAssociation() throws XAException {
        DamagedOnePhase damaged = new DamagedOnePhase(participant);
        damaged.failRollback = true;
        XaResources owner = XaResources.of(damaged);
        Map<?, ?> table = ((BranchAssociations) owner).table();
        XAResource rm = owner.adapter();
        Xid x = xid();
        rm.start(x, XAResource.TMNOFLAGS);
        damaged.branch(SimpleXid.toId(x)).orElseThrow().store("Order", String.class).save("o", "x");
        rm.end(x, XAResource.TMSUCCESS);
        assertThatThrownBy(() -> rm.prepare(x)).isInstanceOf(XAException.class);
        assertThatThrownBy(() -> rm.commit(x, true)).satisfies(e -> assertThat(code(e)).isEqualTo(XAException.XAER_PROTO))
                .hasMessageContaining("was asked to prepare");
        assertThat(table).as("the association stays for rollback").isNotEmpty();
        damaged.failRollback = false;
        rm.rollback(x);
    }

    /** A participant over a FileParticipant's data whose one-phase commit fails as damaged site data does. */
    private static final class DamagedOnePhase implements TransactionalResource {
        private final FileParticipant data;
        private final Map<TransactionId, TransactionBranch> live = new ConcurrentHashMap<>();
        /** Rollbacks fail too, so a failed prepare leaves the branch (possibly) prepared. */
        volatile boolean failRollback;

        DamagedOnePhase(FileParticipant data) {
            this.data = data;
        }

        @Override
        public String resourceManagerId() {
            return "damaged:" + data.resourceManagerId();
        }

        @Override
        public TransactionBranch begin(TransactionId id) {
            TransactionBranch branch = new AbstractTransactionBranch(id, this) {
                @Override
                protected <T> EntityStore<T> committedStore(String typeName, Class<T> type) {
                    return data.store(typeName, type);
                }

                @Override
                protected <T> T copy(String typeName, Class<T> type, T entity) {
                    return entity; // Strings here: nothing a caller can change
                }

                @Override
                protected void doPrepare(List<PendingWrite> writes) {
                    throw new UnsupportedOperationException("one-phase only");
                }

                @Override
                protected void doCommit(List<PendingWrite> writes) {
                    throw new UnsupportedOperationException("one-phase only");
                }

                @Override
                protected void doCommitOnePhase(List<PendingWrite> writes) {
                    throw new IllegalStateException("the stamp of Order/o is unreadable (injected)");
                }

                @Override
                protected void doRollback(List<PendingWrite> writes, boolean prepareAttempted) {
                    if (failRollback) {
                        throw new IllegalStateException("the registry did not answer (injected)");
                    }
                }

                @Override
                protected void completed() {
                    live.remove(id());
                }
            };
            live.put(id, branch);
            return branch;
        }

        @Override
        public Optional<TransactionBranch> branch(TransactionId id) {
            return Optional.ofNullable(live.get(id));
        }

        @Override
        public List<TransactionId> recover() {
            return List.of();
        }

        @Override
        public void commitPrepared(TransactionId id) {
            throw new UnknownTransactionException(id, resourceManagerId());
        }

        @Override
        public void rollbackPrepared(TransactionId id) {
            throw new UnknownTransactionException(id, resourceManagerId());
        }
    }

    /** An Xid with a format id the participant refuses. */
    private record SimpleXidLike(int formatId) implements Xid {
        @Override
        public int getFormatId() {
            return formatId;
        }

        @Override
        public byte[] getGlobalTransactionId() {
            return new byte[]{1};
        }

        @Override
        public byte[] getBranchQualifier() {
            return new byte[]{1};
        }
    }
}
