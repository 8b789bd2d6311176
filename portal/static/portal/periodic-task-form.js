// django-celery-beat's periodic task form: shows the chosen crontab in words.
"use strict";
(function ($) {
  const readable = JSON.parse($("#readable-crontabs").text());
  const help = $(".field-crontab .help");
  const original = help.html();
  $(".field-crontab_translation").hide();
  $(".field-crontab").change(function () {
    help.empty().append(original, $("<br>"), document.createTextNode(readable[$("#id_crontab").val()] || ""));
  });
})(django.jQuery);
