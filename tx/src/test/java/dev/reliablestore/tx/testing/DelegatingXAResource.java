package dev.reliablestore.tx.testing;

import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;

/**
 * An XAResource that passes every call to another one; tests override the calls they make fail,
 * vote no or halt the process. Same resource manager only as itself, so a transaction manager never
 * joins it with the resource it wraps.
 */
public abstract class DelegatingXAResource implements XAResource {

    protected final XAResource delegate;

    protected DelegatingXAResource(XAResource delegate) {
        this.delegate = delegate;
    }

    @Override
    public void start(Xid xid, int flags) throws XAException {
        delegate.start(xid, flags);
    }

    @Override
    public void end(Xid xid, int flags) throws XAException {
        delegate.end(xid, flags);
    }

    @Override
    public int prepare(Xid xid) throws XAException {
        return delegate.prepare(xid);
    }

    @Override
    public void commit(Xid xid, boolean onePhase) throws XAException {
        delegate.commit(xid, onePhase);
    }

    @Override
    public void rollback(Xid xid) throws XAException {
        delegate.rollback(xid);
    }

    @Override
    public void forget(Xid xid) throws XAException {
        delegate.forget(xid);
    }

    @Override
    public Xid[] recover(int flag) throws XAException {
        return delegate.recover(flag);
    }

    @Override
    public int getTransactionTimeout() throws XAException {
        return delegate.getTransactionTimeout();
    }

    @Override
    public boolean setTransactionTimeout(int seconds) throws XAException {
        return delegate.setTransactionTimeout(seconds);
    }

    @Override
    public boolean isSameRM(XAResource other) {
        return other == this;
    }

    /** Votes no at prepare after rolling its branch back, as XA requires of a no vote. */
    public static final class VoteNoAtPrepare extends DelegatingXAResource {
        public VoteNoAtPrepare(XAResource delegate) {
            super(delegate);
        }

        @Override
        public int prepare(Xid xid) throws XAException {
            delegate.rollback(xid);
            XAException no = new XAException("injected no vote");
            no.errorCode = XAException.XA_RBROLLBACK;
            throw no;
        }
    }
}
