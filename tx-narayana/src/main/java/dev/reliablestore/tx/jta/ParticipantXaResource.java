package dev.reliablestore.tx.jta;

import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.api.TransactionRolledBackException;
import dev.reliablestore.spi.tx.DuplicateTransactionException;
import dev.reliablestore.spi.tx.TransactionBranch;
import dev.reliablestore.spi.tx.TransactionId;
import dev.reliablestore.spi.tx.TransactionalResource;
import dev.reliablestore.spi.tx.UnknownTransactionException;
import dev.reliablestore.spi.tx.Vote;
import dev.reliablestore.tx.jta.BranchAssociations.Association;
import dev.reliablestore.tx.jta.BranchAssociations.Phase;
import org.jboss.tm.XAResourceWrapper;

import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;
import java.util.List;
import java.util.Map;

/**
 * The XA face of a {@link TransactionalResource}.
 *
 * <p>Branch associations (active / suspended / ended / prepared, rollback-only, deadline) are kept
 * by the {@link BranchAssociations} that created the adapter and shared by all its adapters, so that
 * {@code start(TMJOIN)} on a second adapter for which {@link #isSameRM} was true finds the branch.
 * Error codes follow the XA specification as Narayana reads them: a "no" vote is {@code XA_RB*}
 * after the branch rolled back; an unreachable store is {@code XAER_RMFAIL} (the branch stays as it was, the call may be
 * repeated); an unknown xid is {@code XAER_NOTA}; a call in the wrong association state is
 * {@code XAER_PROTO}; a bad argument {@code XAER_INVAL}. This resource manager never completes a
 * branch heuristically, so {@link #forget} always answers {@code XAER_NOTA}.
 */
final class ParticipantXaResource implements XAResource, XAResourceWrapper {

    private static final System.Logger LOG = System.getLogger(ParticipantXaResource.class.getName());

    static final String PRODUCT_NAME = "ReliableStore";
    static final String PRODUCT_VERSION = "1";

    private final BranchAssociations owner;
    private final TransactionalResource resource;
    private final Map<TransactionId, Association> table;
    private volatile int timeoutSeconds;
    private volatile TransactionBranch startedBranch;
    private boolean scanOpen;

    /** Use {@link BranchAssociations#adapter()}: the owner holds the associations this adapter shares. */
    ParticipantXaResource(BranchAssociations owner) {
        this.owner = owner;
        this.resource = owner.resource();
        this.table = owner.table();
    }

    /** The branch the last {@code start(xid, TMNOFLAGS)} on this adapter began. */
    TransactionBranch startedBranch() {
        return startedBranch;
    }

    // ---- association ------------------------------------------------------------------------

    @Override
    public void start(Xid xid, int flags) throws XAException {
        TransactionId id = id(xid);
        switch (flags) {
            case TMNOFLAGS -> {
                if (table.containsKey(id)) {
                    throw xa(XAException.XAER_DUPID, "branch " + id + " is already started at " + name(), null);
                }
                TransactionBranch branch;
                try {
                    branch = resource.begin(id);
                } catch (DuplicateTransactionException e) {
                    throw xa(XAException.XAER_DUPID, e.getMessage(), e);
                } catch (RuntimeException e) {
                    throw map(e, "start");
                }
                int t = timeoutSeconds;
                long deadline = t > 0 ? nonZero(System.nanoTime() + t * 1_000_000_000L) : 0;
                table.put(id, new Association(branch, deadline));
                startedBranch = branch;
            }
            case TMJOIN, TMRESUME -> {
                Association a = known(id);
                synchronized (a) {
                    if (flags == TMRESUME && a.phase != Phase.SUSPENDED) {
                        throw xa(XAException.XAER_PROTO, "cannot resume branch " + id + ": it is " + a.phase + ", not SUSPENDED", null);
                    }
                    if (flags == TMJOIN && a.phase == Phase.PREPARED) {
                        throw xa(XAException.XAER_PROTO, "cannot join branch " + id + ": it is already prepared", null);
                    }
                    a.phase = Phase.ACTIVE;
                }
                // a store enlisting after an adapter enlisted by hand is joined to its branch: it writes there
                startedBranch = a.branch;
            }
            default -> throw xa(XAException.XAER_INVAL, "start flags must be TMNOFLAGS, TMJOIN or TMRESUME, got 0x"
                    + Integer.toHexString(flags), null);
        }
    }

    @Override
    public void end(Xid xid, int flags) throws XAException {
        TransactionId id = id(xid);
        if (flags != TMSUCCESS && flags != TMFAIL && flags != TMSUSPEND) {
            throw xa(XAException.XAER_INVAL, "end flags must be TMSUCCESS, TMFAIL or TMSUSPEND, got 0x"
                    + Integer.toHexString(flags), null);
        }
        Association a = known(id);
        synchronized (a) {
            boolean associated = a.phase == Phase.ACTIVE || (a.phase == Phase.SUSPENDED && flags != TMSUSPEND);
            if (!associated) {
                throw xa(XAException.XAER_PROTO, "cannot end branch " + id + " with flags 0x" + Integer.toHexString(flags)
                        + ": it is " + a.phase, null);
            }
            if (flags == TMSUSPEND) {
                a.phase = Phase.SUSPENDED;
            } else {
                a.phase = Phase.ENDED;
                if (flags == TMFAIL) {
                    a.rollbackOnly = true;
                }
            }
        }
    }

    // ---- completion -------------------------------------------------------------------------

    @Override
    public int prepare(Xid xid) throws XAException {
        TransactionId id = id(xid);
        Association a = known(id);
        synchronized (a) {
            requireEnded(a, id, "prepare");
            rollBackIfDoomed(a, id);
            Vote vote;
            try {
                vote = a.branch.prepare();
            } catch (TransactionRolledBackException no) {
                table.remove(id);
                throw xa(no.isRetryable() ? XAException.XA_RBCOMMFAIL : XAException.XA_RBROLLBACK, no.getMessage(), no);
            } catch (RuntimeException e) {
                // the branch may hold a prepared record (in doubt); the coordinator now calls rollback
                a.prepareFailed = true;
                throw map(e, "prepare");
            }
            if (vote == Vote.READ_ONLY) {
                table.remove(id);
                return XA_RDONLY;
            }
            a.phase = Phase.PREPARED;
            return XA_OK;
        }
    }

    @Override
    public void commit(Xid xid, boolean onePhase) throws XAException {
        TransactionId id = id(xid);
        Association a = table.get(id);
        if (onePhase) {
            if (a == null) {
                throw xa(XAException.XAER_NOTA, "no branch " + id + " at " + name(), null);
            }
            synchronized (a) {
                requireEnded(a, id, "commit in one phase");
                if (a.mayBePrepared()) {
                    // prepare was asked (and failed): the branch may hold a prepared record, which only phase two or
                    // rollback may end; a one-phase commit now is the caller's protocol error, and the association stays
                    throw xa(XAException.XAER_PROTO, "branch " + id + " at " + name() + " was asked to prepare; it cannot be"
                            + " committed in one phase", null);
                }
                rollBackIfDoomed(a, id);
                try {
                    a.branch.commitOnePhase();
                    table.remove(id);
                } catch (TransactionRolledBackException no) {
                    table.remove(id);
                    throw xa(no.isRetryable() ? XAException.XA_RBCOMMFAIL : XAException.XA_RBROLLBACK, no.getMessage(), no);
                } catch (RuntimeException unknown) {
                    table.remove(id);
                    if (a.branch.state() == TransactionBranch.State.COMMITTED) {
                        throw xa(XAException.XAER_RMFAIL, "one-phase commit of branch " + id + " at " + name() + " took effect, but a"
                                + " step after it failed: " + unknown.getMessage() + "; the branch is finished", unknown);
                    }
                    // the participant cannot tell whether it applied: that is what XAER_RMFAIL means here. An
                    // IllegalStateException too: the protocol was checked above, so it is about the participant's data
                    throw xa(XAException.XAER_RMFAIL, "outcome of the one-phase commit of " + id + " at " + name()
                            + " is unknown: " + unknown, unknown);
                }
            }
            return;
        }
        if (a == null) {
            try {
                resource.commitPrepared(id);
            } catch (RuntimeException e) {
                throw mapPrepared(e, id, "commit");
            }
            return;
        }
        synchronized (a) {
            if (a.phase != Phase.PREPARED) {
                throw xa(XAException.XAER_PROTO, "cannot commit branch " + id + " in two phases: it is " + a.phase
                        + ", not PREPARED", null);
            }
            if (finishedBeforeCommit(a, id)) {
                return;
            }
            try {
                a.branch.commit();
            } catch (UnknownTransactionException gone) {
                table.remove(id); // finished meanwhile by id (recovery through another instance): nothing to keep
                throw mapPrepared(gone, id, "commit");
            } catch (IllegalStateException e) {
                if (finishedBeforeCommit(a, id)) { // finished by recovery between the check and the call
                    return;
                }
                throw mapPrepared(e, id, "commit");
            } catch (RuntimeException e) {
                if (a.branch.state() == TransactionBranch.State.COMMITTED) {
                    // applied, then e.g. its audit record failed: finished, so a retry by Narayana's recovery answers XAER_NOTA
                    table.remove(id);
                    throw xa(XAException.XAER_RMFAIL, "commit of branch " + id + " at " + name() + " took effect, but a step"
                            + " after it failed: " + e.getMessage() + "; the branch is finished (a repeated commit answers"
                            + " XAER_NOTA)", e);
                }
                throw mapPrepared(e, id, "commit");
            }
            table.remove(id);
        }
    }

    @Override
    public void rollback(Xid xid) throws XAException {
        TransactionId id = id(xid);
        Association a = table.get(id);
        if (a == null) {
            try {
                resource.rollbackPrepared(id);
            } catch (RuntimeException e) {
                throw mapPrepared(e, id, "rollback");
            }
            return;
        }
        synchronized (a) {
            if (finishedBeforeRollback(a, id)) {
                return;
            }
            try {
                a.branch.rollback();
            } catch (UnknownTransactionException gone) {
                table.remove(id); // finished meanwhile: nothing to keep
                throw a.mayBePrepared() ? mapPrepared(gone, id, "rollback") : map(gone, "rollback");
            } catch (IllegalStateException e) {
                if (finishedBeforeRollback(a, id)) { // finished by recovery between the check and the call
                    return;
                }
                throw a.mayBePrepared() ? mapPrepared(e, id, "rollback") : map(e, "rollback");
            } catch (RuntimeException e) {
                if (a.branch.state() == TransactionBranch.State.ROLLED_BACK) {
                    // rolled back, then e.g. its audit record failed: any error code would tell Narayana the branch may
                    // still hold its prepared record, so the rollback is answered as done and the failure logged
                    table.remove(id);
                    LOG.log(System.Logger.Level.WARNING, "rollback of branch " + id + " at " + name() + " took effect, but a"
                            + " step after it failed", e);
                    return;
                }
                throw a.mayBePrepared() ? mapPrepared(e, id, "rollback") : map(e, "rollback");
            }
            table.remove(id);
        }
    }

    /**
     * Whether recovery finished the associated branch meanwhile through another adapter: committed
     * (done: true) or rolled back ({@code XA_HEURRB}, the truth no retry changes); its association goes.
     */
    private boolean finishedBeforeCommit(Association a, TransactionId id) throws XAException {
        TransactionBranch.State state = a.branch.state();
        if (state == TransactionBranch.State.COMMITTED) {
            table.remove(id);
            return true;
        }
        if (state == TransactionBranch.State.ROLLED_BACK) {
            table.remove(id);
            throw xa(XAException.XA_HEURRB, "branch " + id + " at " + name() + " was rolled back before this commit", null);
        }
        return false;
    }

    /** As {@link #finishedBeforeCommit}, for a rollback: rolled back is done, committed is {@code XA_HEURCOM}. */
    private boolean finishedBeforeRollback(Association a, TransactionId id) throws XAException {
        TransactionBranch.State state = a.branch.state();
        if (state == TransactionBranch.State.ROLLED_BACK) {
            table.remove(id);
            return true;
        }
        if (state == TransactionBranch.State.COMMITTED) {
            table.remove(id);
            throw xa(XAException.XA_HEURCOM, "branch " + id + " at " + name() + " was committed before this rollback", null);
        }
        return false;
    }

    @Override
    public void forget(Xid xid) throws XAException {
        TransactionId id = id(xid);
        throw xa(XAException.XAER_NOTA, "no heuristically completed branch " + id + " at " + name()
                + " (this resource manager never completes a branch on its own)", null);
    }

    @Override
    public synchronized Xid[] recover(int flag) throws XAException {
        if ((flag & ~(TMSTARTRSCAN | TMENDRSCAN)) != 0) {
            throw xa(XAException.XAER_INVAL, "recover flags must be TMSTARTRSCAN, TMENDRSCAN, both, or TMNOFLAGS, got 0x"
                    + Integer.toHexString(flag), null);
        }
        boolean startScan = (flag & TMSTARTRSCAN) != 0;
        boolean endScan = (flag & TMENDRSCAN) != 0;
        if (!startScan && !scanOpen) {
            throw xa(XAException.XAER_PROTO, "recover without TMSTARTRSCAN: no recovery scan is open", null);
        }
        Xid[] result = new Xid[0];
        if (startScan) {
            List<TransactionId> prepared;
            try {
                prepared = resource.recover();
            } catch (dev.reliablestore.api.StoreClosedException e) {
                owner.closedFound(); // the next scans leave it out (a closed factory's branches are in a new factory's scan)
                throw map(e, "recover");
            } catch (RuntimeException e) {
                throw map(e, "recover");
            }
            result = prepared.stream().map(SimpleXid::new).toArray(Xid[]::new);
        }
        scanOpen = !endScan;
        return result;
    }

    // ---- identity and timeouts ----------------------------------------------------------------

    @Override
    public boolean isSameRM(XAResource other) {
        return other instanceof ParticipantXaResource p && p.owner == owner;
    }

    @Override
    public int getTransactionTimeout() {
        return timeoutSeconds;
    }

    @Override
    public boolean setTransactionTimeout(int seconds) throws XAException {
        if (seconds < 0) {
            throw xa(XAException.XAER_INVAL, "transaction timeout must be 0 (none) or more seconds, got " + seconds, null);
        }
        timeoutSeconds = seconds;
        return true;
    }

    @Override
    public XAResource getResource() {
        return this;
    }

    @Override
    public String getProductName() {
        return PRODUCT_NAME;
    }

    @Override
    public String getProductVersion() {
        return PRODUCT_VERSION;
    }

    /** A stable name of the resource manager; Narayana records it to match branches at recovery. */
    @Override
    public String getJndiName() {
        return "reliablestore:" + resource.resourceManagerId();
    }

    @Override
    public String toString() {
        return "XAResource[" + name() + "]";
    }

    // ---- helpers ------------------------------------------------------------------------------

    private String name() {
        return resource.resourceManagerId();
    }

    private static TransactionId id(Xid xid) throws XAException {
        try {
            return SimpleXid.toId(xid);
        } catch (IllegalArgumentException e) {
            throw xa(XAException.XAER_INVAL, "malformed xid: " + e.getMessage(), e);
        }
    }

    private Association known(TransactionId id) throws XAException {
        Association a = table.get(id);
        if (a == null) {
            throw xa(XAException.XAER_NOTA, "no branch " + id + " at " + name(), null);
        }
        return a;
    }

    private static void requireEnded(Association a, TransactionId id, String action) throws XAException {
        if (a.phase != Phase.ENDED) {
            throw xa(XAException.XAER_PROTO, "cannot " + action + " branch " + id + ": it is " + a.phase
                    + " (end it first)", null);
        }
    }

    /** Rolls back a branch marked by end(TMFAIL) or past its timeout and reports it as XA_RB*. */
    private void rollBackIfDoomed(Association a, TransactionId id) throws XAException {
        if (!a.rollbackOnly && !a.expired()) {
            return;
        }
        int code = a.rollbackOnly ? XAException.XA_RBROLLBACK : XAException.XA_RBTIMEOUT;
        String why = a.rollbackOnly ? "it was ended with TMFAIL" : "its transaction timeout of " + timeoutSeconds + " s passed";
        try {
            a.branch.rollback();
        } catch (RuntimeException e) {
            throw map(e, "rollback");
        }
        table.remove(id);
        throw xa(code, "branch " + id + " was rolled back: " + why, null);
    }

    private XAException map(RuntimeException e, String action) {
        String message = action + " at " + name() + " failed: " + e.getMessage();
        if (e instanceof UnknownTransactionException) {
            return xa(XAException.XAER_NOTA, message, e);
        }
        if (e instanceof DuplicateTransactionException) {
            return xa(XAException.XAER_DUPID, message, e);
        }
        if (e instanceof IllegalStateException) {
            return xa(XAException.XAER_PROTO, message, e);
        }
        if (e instanceof PersistenceException p && p.isRetryable()) {
            return xa(XAException.XAER_RMFAIL, message, e);
        }
        return xa(XAException.XAER_RMERR, message, e);
    }

    /**
     * A failed phase-two commit or rollback of a prepared branch. The branch stays prepared and the
     * call can be repeated, so every failure but an unknown branch is {@code XAER_RMFAIL} (the
     * adapter's own protocol checks come before the call and answer {@code XAER_PROTO} themselves). After a failed commit Narayana keeps its log and commits again from
     * recovery; after a failed rollback it forgets the transaction, and recovery finds the branch as
     * an orphan (prepared, of one of its recovery nodes, no log) and rolls it back once it has been
     * seen for the orphan safety interval.
     * {@code XAER_RMERR} would be read as a heuristic outcome: on a commit as "rolled back" although
     * the prepared writes are still to be applied (or, when only the audit record after the commit
     * failed, already are); on a rollback as a heuristic hazard, which nobody retries, although the
     * branch still holds its locks and this resource manager never decides on its own.
     */
    private XAException mapPrepared(RuntimeException e, TransactionId id, String action) {
        // not an IllegalStateException either: the adapter checked the protocol before calling, so one
        // from the participant is about its data (e.g. a damaged stamp), and XAER_PROTO reads as a heuristic rollback
        if (e instanceof UnknownTransactionException) {
            return map(e, action);
        }
        return xa(XAException.XAER_RMFAIL, action + " of branch " + id + " at " + name() + " failed; the branch stays"
                + " prepared and the " + action + " can be repeated: " + e.getMessage(), e);
    }

    static XAException xa(int code, String message, Throwable cause) {
        XAException e = new XAException(message);
        e.errorCode = code;
        if (cause != null) {
            e.initCause(cause);
        }
        return e;
    }

    private static long nonZero(long v) {
        return v == 0 ? 1 : v;
    }
}
