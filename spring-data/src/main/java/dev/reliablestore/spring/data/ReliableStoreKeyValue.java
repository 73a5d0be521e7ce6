package dev.reliablestore.spring.data;

import org.springframework.data.keyvalue.core.KeyValueTemplate;
import org.springframework.data.keyvalue.core.mapping.context.KeyValueMappingContext;

import dev.reliablestore.api.StoreFactory;

/** Spring Data KeyValue over ReliableStore: the template {@link EnableReliableStoreRepositories} uses. */
public final class ReliableStoreKeyValue {

    /** The name of the template bean repositories use unless {@code keyValueTemplateRef} names another. */
    public static final String TEMPLATE_BEAN = "reliableStoreKeyValueTemplate";

    private ReliableStoreKeyValue() {
    }

    /**
     * A template over the factory's stores: one entity type per keyspace (the class's simple name
     * unless {@code @KeySpace} names it), {@code @Version} as the store's conditional save and delete, and
     * ReliableStore's exceptions translated to Spring's {@code DataAccessException}s. Closing the
     * template leaves the factory open.
     */
    public static KeyValueTemplate template(StoreFactory factory) {
        KeyValueMappingContext<?, ?> mapping = new KeyValueMappingContext<>();
        StoreKeyValueAdapter adapter = new StoreKeyValueAdapter(factory, mapping);
        KeyValueTemplate template = new KeyValueTemplate(adapter, mapping) {
            /**
             * A repository's {@code delete(entity)} and {@code deleteAll(entities)} end here: an entity
             * with a {@code @Version} deletes only that version, as Spring Data's contract says (a
             * stale one is an {@code OptimisticLockingFailureException}).
             */
            @Override
            public <T> T delete(T objectToDelete) {
                return adapter.deleteEntity(objectToDelete, () -> super.delete(objectToDelete));
            }

            /**
             * {@code insert(entity)} and a repository's save of a new entity end here. KeyValueTemplate
             * checks that the id is free and then puts: between the two another writer may create the
             * id, which the put would replace; here the put is the store's create, and that case a
             * {@code DuplicateKeyException}.
             */
            @Override
            public <T> T insert(Object id, T objectToInsert) {
                return adapter.inserting(id, objectToInsert, () -> super.insert(id, objectToInsert));
            }

            /**
             * KeyValueTemplate counts through the adapter directly, outside the {@code execute} that
             * translates exceptions: a repository's {@code count()} and a page's total would throw
             * ReliableStore's own exceptions instead of {@code DataAccessException}s.
             */
            @Override
            public long count(Class<?> type) {
                Long count = execute(ignored -> super.count(type));
                return count == null ? 0 : count;
            }

            /**
             * KeyValueTemplate's own destroy clears every keyspace (right for an in-memory map, where
             * the data dies with the context anyway); here it would delete the application's
             * stored entities each time the context closes.
             */
            @Override
            public void destroy() {
            }
        };
        template.setExceptionTranslator(new StoreExceptionTranslator());
        return template;
    }
}
