// Cell renderers of the dashboard's grids. React writes text as text, so no value can become markup.
var dagcomponentfuncs = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});

// A trial's code as plain text, linking to the href the server built from URL-encoded parts.
dagcomponentfuncs.TrialLink = function (props) {
  var href = props.data && props.data.href;
  if (typeof href !== "string" || href.indexOf("/dashboard/trials/") !== 0) {
    return props.value;
  }
  return React.createElement("a", { href: href }, props.value);
};
