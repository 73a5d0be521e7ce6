package dev.reliablestore.spring.boot;

import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.tx.jta.NarayanaJta;

/**
 * The context's StoreFactory with stores that join the current JTA transaction
 * ({@link NarayanaJta#store}), so that store beans and Spring Data repositories take part in
 * {@code @Transactional} methods without the application asking for it. Closing it closes the
 * provider's factory.
 */
final class JtaStoreFactory implements StoreFactory {

    private final StoreFactory factory;
    private final NarayanaJta jta;

    JtaStoreFactory(StoreFactory factory, NarayanaJta jta) {
        this.factory = factory;
        this.jta = jta;
    }

    @Override
    public String providerName() {
        return factory.providerName();
    }

    @Override
    public <T> EntityStore<T> store(String typeName, Class<T> type) {
        return jta.store(factory, typeName, type);
    }

    @Override
    public void close() {
        factory.close();
    }

    /** The provider's factory under the JTA wrapper (the health check reads its cluster status). */
    StoreFactory delegate() {
        return factory;
    }

    @Override
    public String toString() {
        return "JTA-aware " + factory;
    }
}
