// The API both test servers serve: the reference API's queries in the form
// an API team writes them. Protected fields are nullable, so a refused
// token nulls the field and the answer is {"data":{"me":null},"errors":[…]}.
// How a server refuses (its GraphQLError) is its own: see resolvers().
import { GraphQLError } from 'graphql';
import { checkCredentials } from './contract.mjs';

export const typeDefs = /* GraphQL */ `
  type Query {
    "Logs in by username or email; the token comes back in the X-Authorization and Authorization headers."
    loginUser(email: String, username: String, password: String!): User
    me: User
    "50 fixed items, then those the user added."
    items(first: Int = 10): ItemConnection
    "Always fails with an ordinary resolver error."
    broken: String
    "A permission error for any logged-in user: null with the error Unauthorized."
    restricted: String
  }

  type Mutation {
    addItem(name: String!): Item
    "A permission error on a non-null field: the whole data is null."
    forbiddenStrict: Boolean!
  }

  type User {
    id: ID!
    username: String!
    email: String!
  }

  type Item {
    id: ID!
    name: String!
  }

  type ItemConnection {
    nodes: [Item!]!
    totalCount: Int!
  }
`;

/** The items users added, by user id; the test log counts the runs of addItem from it. */
export const store = {
  added: new Map(),
  addItemRuns: 0,
  reset() {
    this.added.clear();
    this.addItemRuns = 0;
  },
};

function itemsOf(user) {
  const fixed = Array.from({ length: 50 }, (_, i) => ({ id: String(i + 1), name: `Item ${i + 1}` }));
  return [...fixed, ...(store.added.get(user.id) ?? [])];
}

/**
 * The resolvers. The context holds user (null without a valid token) and
 * loggedIn(user), which loginUser calls so that its answer carries a token.
 * @param {object} errors
 * @param {() => Error} errors.unauthorized  thrown by a protected field without a valid token
 * @param {() => Error} errors.forbidden     a permission error: the user may not see this
 */
export function resolvers({ unauthorized, forbidden }) {
  const viewer = (ctx) => {
    if (!ctx.user) throw unauthorized();
    return ctx.user;
  };
  return {
    Query: {
      loginUser(_, credentials, ctx) {
        const user = checkCredentials(credentials);
        if (!user) throw new GraphQLError('invalid username, email or password');
        ctx.loggedIn(user);
        return user;
      },
      me: (_, __, ctx) => viewer(ctx),
      items(_, { first }, ctx) {
        const all = itemsOf(viewer(ctx));
        if (first < 0 || first > 100) throw new Error('first must be between 0 and 100');
        return { nodes: all.slice(0, first), totalCount: all.length };
      },
      broken(_, __, ctx) {
        viewer(ctx);
        throw new Error('the broken field failed, as it always does');
      },
      restricted(_, __, ctx) {
        viewer(ctx);
        throw forbidden();
      },
    },
    Mutation: {
      addItem(_, { name }, ctx) {
        const user = viewer(ctx);
        store.addItemRuns++;
        const list = store.added.get(user.id) ?? [];
        const item = { id: String(51 + list.length), name };
        store.added.set(user.id, [...list, item]);
        return item;
      },
      forbiddenStrict(_, __, ctx) {
        viewer(ctx);
        throw forbidden();
      },
    },
  };
}
