// GraphiQL served by securescore itself: the token is pasted once, kept in this browser's
// local storage, and sent as `Authorization: Bearer …` with every request, introspection
// included, so the docs and autocompletion load as soon as it is set.
(function () {
  var KEY = "securescore.token";
  var input = document.getElementById("token");
  var state = document.getElementById("token-state");
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  input.value = window.localStorage.getItem(KEY) || "";

  function render() {
    var token = input.value.trim();
    var headers = token ? { Authorization: "Bearer " + token } : {};
    var fetcher = GraphiQL.createFetcher({ url: "/graphql", headers: headers });
    state.textContent = token ? "token set" : "no token: requests will be refused";
    // A new key remounts GraphiQL, which fetches the schema again with the new token.
    root.render(React.createElement(GraphiQL, { fetcher: fetcher, key: token || "none" }));
  }

  document.getElementById("token-form").addEventListener("submit", function (event) {
    event.preventDefault();
    window.localStorage.setItem(KEY, input.value.trim());
    render();
  });
  render();
})();
