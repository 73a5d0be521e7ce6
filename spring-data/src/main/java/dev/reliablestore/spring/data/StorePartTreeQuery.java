package dev.reliablestore.spring.data;

import java.util.List;
import java.util.Set;

import org.springframework.data.keyvalue.core.IterableConverter;
import org.springframework.data.keyvalue.core.KeyValueOperations;
import org.springframework.data.keyvalue.core.KeyValueTemplate;
import org.springframework.data.keyvalue.core.query.KeyValueQuery;
import org.springframework.data.keyvalue.repository.query.KeyValuePartTreeQuery;
import org.springframework.data.repository.query.QueryCreationException;
import org.springframework.data.repository.query.QueryMethod;
import org.springframework.data.repository.query.QueryMethodEvaluationContextProvider;
import org.springframework.data.repository.query.parser.AbstractQueryCreator;
import org.springframework.data.repository.query.parser.PartTree;

/**
 * A derived query method as Spring Data specifies it: KeyValuePartTreeQuery answers a
 * {@code deleteBy…}/{@code removeBy…} method with the first match, deleting nothing, and a
 * {@code countBy…} method with an entity instead of a number. Here a delete deletes each match at
 * the version the query read and returns nothing, how many it deleted or the deleted entities, as
 * the method declares; a count counts. Anything else is KeyValuePartTreeQuery's.
 */
final class StorePartTreeQuery extends KeyValuePartTreeQuery {

    private static final Set<Class<?>> COUNT_TYPES = Set.of(long.class, Long.class, int.class, Integer.class);
    private static final Set<Class<?>> NO_RESULT = Set.of(void.class, Void.class);

    private final PartTree tree;
    private final QueryMethod method;
    private final KeyValueOperations operations;

    /** The constructor Spring Data KeyValue's query lookup calls (its signature is the contract). */
    @SuppressWarnings("removal") // the lookup of Spring Data KeyValue 3.5 calls only this signature
    public StorePartTreeQuery(QueryMethod method, QueryMethodEvaluationContextProvider evaluationContextProvider,
                              KeyValueOperations operations, Class<? extends AbstractQueryCreator<?, ?>> queryCreator) {
        super(method, evaluationContextProvider, operations, queryCreator);
        this.method = method;
        this.operations = operations;
        this.tree = new PartTree(method.getName(), method.getEntityInformation().getJavaType());
        // refused when the repository is created, not after the first call has deleted
        if (tree.isDelete() && (method.isPageQuery() || method.isSliceQuery() || method.isStreamQuery() || method.isScrollQuery())) {
            throw QueryCreationException.create(method, "a derived delete returns void, the number of entities it deleted (long or"
                    + " int) or the deleted entities (a List), not a page, slice, stream or window");
        }
        if (tree.isDelete() && !method.isCollectionQuery() && !COUNT_TYPES.contains(method.getReturnedObjectType())
                && !NO_RESULT.contains(method.getReturnedObjectType())) {
            throw QueryCreationException.create(method, "a derived delete returns void, the number of entities it deleted (long or"
                    + " int) or the deleted entities (a List), not a " + method.getReturnedObjectType().getName());
        }
    }

    @Override
    protected Object doExecute(Object[] parameters, KeyValueQuery<?> query) {
        Class<?> type = method.getEntityInformation().getJavaType();
        if (tree.isDelete()) {
            List<?> deleted = delete(query, type);
            if (method.isCollectionQuery()) {
                return deleted;
            }
            return NO_RESULT.contains(method.getReturnedObjectType()) ? null : number(deleted.size());
        }
        if (tree.isCountProjection()) {
            return number(operations.count(query, type));
        }
        return super.doExecute(parameters, query);
    }

    /** A count as the method declares it: an int one fails rather than wrap past Integer.MAX_VALUE. */
    private Object number(long count) {
        Class<?> declared = method.getReturnedObjectType();
        return declared == int.class || declared == Integer.class ? (Object) Math.toIntExact(count) : (Object) count;
    }

    private List<?> delete(KeyValueQuery<?> query, Class<?> type) {
        if (operations instanceof KeyValueTemplate template && template.getKeyValueAdapter() instanceof StoreKeyValueAdapter adapter) {
            return adapter.deleteMatches(template, query, type);
        }
        // a template over another adapter (keyValueTemplateRef): its own delete of each entity
        List<?> found = IterableConverter.toList(operations.find(query, type));
        found.forEach(operations::delete);
        return found;
    }
}
