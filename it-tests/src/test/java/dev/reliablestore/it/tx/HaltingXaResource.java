package dev.reliablestore.it.tx;

import dev.reliablestore.tx.testing.DelegatingXAResource;

import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;

/**
 * An XAResource that halts the JVM (as a power cut would) when asked to prepare or to commit in
 * two phases, and otherwise delegates; remembers the xid it was started with.
 */
final class HaltingXaResource extends DelegatingXAResource {

    enum HaltAt { NEVER, PREPARE, COMMIT }

    private final HaltAt haltAt;
    volatile Xid started;

    HaltingXaResource(XAResource delegate, HaltAt haltAt) {
        super(delegate);
        this.haltAt = haltAt;
    }

    @Override
    public void start(Xid xid, int flags) throws XAException {
        started = xid;
        delegate.start(xid, flags);
    }

    @Override
    public int prepare(Xid xid) throws XAException {
        if (haltAt == HaltAt.PREPARE) {
            Runtime.getRuntime().halt(3);
        }
        return delegate.prepare(xid);
    }

    @Override
    public void commit(Xid xid, boolean onePhase) throws XAException {
        if (haltAt == HaltAt.COMMIT && !onePhase) {
            Runtime.getRuntime().halt(3);
        }
        delegate.commit(xid, onePhase);
    }
}
