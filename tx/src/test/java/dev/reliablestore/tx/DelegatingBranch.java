package dev.reliablestore.tx;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.spi.tx.TransactionBranch;
import dev.reliablestore.spi.tx.TransactionId;
import dev.reliablestore.spi.tx.TransactionalResource;
import dev.reliablestore.spi.tx.Vote;

/** A branch that passes every call to another one, for test participants that change one step. */
class DelegatingBranch implements TransactionBranch {

    protected final TransactionBranch delegate;
    private final TransactionalResource resource;

    /** {@code resource}: the participant this branch reports as its own (the test's wrapper). */
    DelegatingBranch(TransactionBranch delegate, TransactionalResource resource) {
        this.delegate = delegate;
        this.resource = resource;
    }

    @Override
    public TransactionId id() {
        return delegate.id();
    }

    @Override
    public TransactionalResource resource() {
        return resource;
    }

    @Override
    public State state() {
        return delegate.state();
    }

    @Override
    public <T> EntityStore<T> store(String typeName, Class<T> type) {
        return delegate.store(typeName, type);
    }

    @Override
    public boolean isReadOnly() {
        return delegate.isReadOnly();
    }

    @Override
    public long mark() {
        return delegate.mark();
    }

    @Override
    public void rollbackTo(long mark) {
        delegate.rollbackTo(mark);
    }

    @Override
    public Vote prepare() {
        return delegate.prepare();
    }

    @Override
    public void commit() {
        delegate.commit();
    }

    @Override
    public void commitOnePhase() {
        delegate.commitOnePhase();
    }

    @Override
    public void rollback() {
        delegate.rollback();
    }
}
