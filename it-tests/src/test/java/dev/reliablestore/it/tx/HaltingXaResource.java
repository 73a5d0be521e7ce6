package dev.reliablestore.it.tx;

import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;

/**
 * An XAResource that halts the JVM (as a power cut would) when asked to prepare or to commit in
 * two phases, and otherwise delegates; remembers the xid it was started with.
 */
final class HaltingXaResource implements XAResource {

    enum HaltAt { NEVER, PREPARE, COMMIT }

    private final XAResource delegate;
    private final HaltAt haltAt;
    volatile Xid started;

    HaltingXaResource(XAResource delegate, HaltAt haltAt) {
        this.delegate = delegate;
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

    @Override
    public void end(Xid xid, int flags) throws XAException {
        delegate.end(xid, flags);
    }

    @Override
    public void forget(Xid xid) throws XAException {
        delegate.forget(xid);
    }

    @Override
    public int getTransactionTimeout() throws XAException {
        return delegate.getTransactionTimeout();
    }

    @Override
    public boolean isSameRM(XAResource other) {
        return other == this;
    }

    @Override
    public Xid[] recover(int flag) throws XAException {
        return delegate.recover(flag);
    }

    @Override
    public void rollback(Xid xid) throws XAException {
        delegate.rollback(xid);
    }

    @Override
    public boolean setTransactionTimeout(int seconds) throws XAException {
        return delegate.setTransactionTimeout(seconds);
    }
}
