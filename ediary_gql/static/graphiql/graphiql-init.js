// GraphiQL at /graphql, from the files of this folder (no CDN, no inline script).
"use strict";
(function () {
  var EXAMPLE_QUERY =
    "# GraphiQL: напишите запрос слева и нажмите Ctrl-Enter.\n" +
    "# Токен: заголовок {\"Authorization\": \"Bearer …\"} во вкладке Headers\n" +
    "# (его даёт мутация signIn).\n#\n" +
    "# {\n#   me { fullName memberships { schoolId role } }\n# }\n";

  var parameters = {};
  window.location.search
    .slice(1)
    .split("&")
    .forEach(function (entry) {
      var eq = entry.indexOf("=");
      if (eq >= 0) {
        parameters[decodeURIComponent(entry.slice(0, eq))] = decodeURIComponent(entry.slice(eq + 1));
      }
    });

  function updateURL(data) {
    Object.assign(parameters, data);
    var search =
      "?" +
      Object.keys(parameters)
        .filter(function (key) {
          return Boolean(parameters[key]);
        })
        .map(function (key) {
          return encodeURIComponent(key) + "=" + encodeURIComponent(parameters[key]);
        })
        .join("&");
    history.replaceState(null, "", search);
  }

  var fetchURL = window.location.href.split("?")[0].split("#")[0];
  var subscriptionURL = new URL(fetchURL);
  subscriptionURL.protocol = subscriptionURL.protocol === "https:" ? "wss:" : "ws:";

  var fetcher = GraphiQL.createFetcher({ url: fetchURL, subscriptionUrl: subscriptionURL.toString() });

  function Page() {
    var query = React.useState(parameters.q || EXAMPLE_QUERY);
    var variables = React.useState(parameters.variables);
    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      query: query[0],
      variables: variables[0],
      onEditQuery: function (value) {
        query[1](value);
        updateURL({ q: value });
      },
      onEditVariables: function (value) {
        variables[1](value);
        updateURL({ variables: value });
      },
      inputValueDeprecation: true,
      isHeadersEditorEnabled: true,
      // a token typed into the headers stays in this tab, not in the browser's storage
      shouldPersistHeaders: false,
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(Page));
})();
